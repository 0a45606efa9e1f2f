from kenning.launcher import main

raise SystemExit(main())
