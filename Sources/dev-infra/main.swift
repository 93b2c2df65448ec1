import DevInfraCLI

DevInfraCommand.start()
