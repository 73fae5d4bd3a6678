import BackpropCLI

await BackpropCommand.runFromCommandLine()
