from valuechain.cli.main import main

main()
