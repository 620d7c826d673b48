"""Let ``python -m wcitfeed`` run the command line."""

from wcitfeed.cli import main

main()
