from tiplab.cli import main

main()
