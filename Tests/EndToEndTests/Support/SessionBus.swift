import Foundation

/// A private D-Bus session bus for one test, optionally with a real gnome-keyring Secret Service on
/// it, so keyring tests never touch the developer's own keyring and need no desktop.
final class SessionBus {
    enum SecretService {
        /// gnome-keyring-daemon, unlocked, with a login collection.
        case gnomeKeyring
        /// Nothing provides org.freedesktop.secrets.
        case none
        /// Activation starts a program that never registers: libsecret waits until D-Bus gives up.
        case hanging
        /// A Secret Service that refuses every session algorithm, plain included
        /// (`Support/plainless_secret_service.py`).
        case refusingSessions
    }

    let folder: String
    let address: String
    private var bus: Process?
    private var keyring: Process?

    init(home: String, service: SecretService) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dev-infra-bus-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder + "/services", withIntermediateDirectories: true)
        address = "unix:path=\(folder)/bus"
        if service == .hanging {
            try "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sleep 600\n"
                .write(toFile: folder + "/services/org.freedesktop.secrets.service", atomically: true, encoding: .utf8)
        }
        let config = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>\(address)</listen>
          <servicedir>\(folder)/services</servicedir>
          <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
        </busconfig>
        """
        try config.write(toFile: folder + "/bus.conf", atomically: true, encoding: .utf8)
        guard let daemon = Run.which("dbus-daemon") else { throw Missing.tool("dbus-daemon (apt-get install dbus)") }
        // Not --fork: a forked daemon keeps the pipes of whoever started it open.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["--config-file=\(folder)/bus.conf", "--nofork", "--nopidfile"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        bus = process
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: folder + "/bus") {
            guard Date() < deadline, process.isRunning else { throw Missing.tool("a session bus: dbus-daemon did not start") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        switch service {
        case .gnomeKeyring: try startKeyring(home: home)
        case .refusingSessions: try startRefusingService()
        case .none, .hanging: break
        }
    }

    var environment: [String: String] { ["DBUS_SESSION_BUS_ADDRESS": address] }

    private func startKeyring(home: String) throws {
        guard let daemon = Run.which("gnome-keyring-daemon") else { throw Missing.tool("gnome-keyring-daemon (apt-get install gnome-keyring)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["--foreground", "--unlock", "--components=secrets"]
        process.environment = ["HOME": home, "DBUS_SESSION_BUS_ADDRESS": address, "PATH": "/usr/bin:/bin"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("test-password".utf8))
        try input.fileHandleForWriting.close()
        keyring = process
        try waitForSecretService("gnome-keyring-daemon")
    }

    private func startRefusingService() throws {
        // Debian's own Python, where apt puts python3-dbus, whatever python3 comes first on PATH.
        let python = "/usr/bin/python3"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("plainless_secret_service.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script]
        process.environment = ["DBUS_SESSION_BUS_ADDRESS": address, "PATH": "/usr/bin:/bin"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        keyring = process
        try waitForSecretService("\(script) (needs python3-dbus and python3-gi)")
    }

    /// Waits until something owns org.freedesktop.secrets on this bus.
    private func waitForSecretService(_ what: String) throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let owned = try Run.process("/usr/bin/dbus-send", [
                "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets",
            ], environment: environment)
            if owned.stdout.contains("boolean true") { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Missing.tool("\(what) to register org.freedesktop.secrets within 15 s")
    }

    /// `secret-tool` against this bus, to see what dev-infra stored from outside it.
    func secretTool(_ arguments: [String], stdin: String? = nil) throws -> RunResult {
        guard let tool = Run.which("secret-tool") else { throw Missing.tool("secret-tool (apt-get install libsecret-tools)") }
        return try Run.process(tool, arguments, environment: environment.merging(["HOME": folder]) { $1 }, stdin: stdin)
    }

    /// Locks gnome-keyring's login collection, as a screen lock or a timeout would; unlocking it
    /// again needs a prompt, which cannot be shown here.
    func lockLoginCollection() throws {
        let locked = try Run.process("/usr/bin/dbus-send", [
            "--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login",
        ], environment: environment)
        guard locked.status == 0, locked.stdout.contains("/org/freedesktop/secrets/collection/login") else {
            throw Missing.tool("a lockable login collection: \(locked.stderr)")
        }
    }

    /// The method calls sent to the Secret Service while `body` runs, as `dbus-monitor` prints them.
    func secretServiceCalls(during body: () throws -> Void) throws -> String {
        guard let tool = Run.which("dbus-monitor") else { throw Missing.tool("dbus-monitor (apt-get install dbus)") }
        let log = folder + "/monitor-\(UUID().uuidString.prefix(8)).txt"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--address", address, "type='method_call',destination='org.freedesktop.secrets'"]
        process.standardInput = FileHandle.nullDevice
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        try output.close()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        // The monitor is attached once the bus has told it its name.
        let deadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("NameAcquired") {
            guard Date() < deadline, process.isRunning else { throw Missing.tool("dbus-monitor did not attach") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        try body()
        Thread.sleep(forTimeInterval: 0.2)
        return try String(contentsOfFile: log, encoding: .utf8)
    }

    deinit {
        if let keyring { kill(keyring.processIdentifier, SIGKILL); keyring.waitUntilExit() }
        if let bus { kill(bus.processIdentifier, SIGKILL); bus.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: folder)
    }

    enum Missing: Error, CustomStringConvertible {
        case tool(String)
        var description: String {
            switch self { case .tool(let what): "the keyring tests need \(what); .ci/run installs it" }
        }
    }
}
