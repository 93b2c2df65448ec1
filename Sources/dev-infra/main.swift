import DevInfraCLI

await DevInfraCommand.runMain()
