import sys

from router.cli import COMMANDS, main

args = sys.argv[1:]
if not args or args[0] not in (*COMMANDS, "-h", "--help"):
    args = ["serve", *args]
sys.exit(main(args))
