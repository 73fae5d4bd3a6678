import BackpropCLI

BackpropCommand.main()
