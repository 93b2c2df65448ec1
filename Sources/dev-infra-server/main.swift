import ServerCommands

await ServerCommand.runMain()
