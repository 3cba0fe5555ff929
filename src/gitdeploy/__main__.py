from gitdeploy.cli import main

main()
