from lms.cli import main

raise SystemExit(main())
