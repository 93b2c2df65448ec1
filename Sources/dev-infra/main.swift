import DevInfraCLI

DevInfraCommand.runMain()
