from player_plugin.cli import main

raise SystemExit(main())
