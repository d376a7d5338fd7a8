"""Text models: ONNX runtime, manifests, tokenisation and encoders. No torch, no Qt."""
