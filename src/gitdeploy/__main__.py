from gitdeploy.cli.app import main

main()
