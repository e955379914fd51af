import sys

from router.cli import main

args = sys.argv[1:]
if not args or args[0] not in ("serve", "plan", "persisted-queries", "-h", "--help"):
    args = ["serve", *args]
sys.exit(main(args))
