import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server's own files: created 0600 from their first byte, never through a symlink, and
/// refused (with the `chmod` that fixes them) when group or others can read them, as ssh does.
enum SecretFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The file's bytes, when it exists and only its owner can read it; nil when it does not exist.
    static func read(_ path: String, maxSize: Int = 4096) throws -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))"
                + (errno == ELOOP ? " (it is a symbolic link; the server's key must be a plain file)" : ""))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: "cannot stat \(path)") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        guard info.st_uid == getuid() else {
            throw Failure(description: "\(path) belongs to another user (uid \(info.st_uid)); the server's key must be its own")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Failure(description: "\(path) can be read by others (mode \(String(mode, radix: 8))): a local user could forge "
                + "admin tokens with it. Fix it with: chmod 600 \(path)")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 { throw Failure(description: "cannot read \(path)") }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            guard data.count <= maxSize else { throw Failure(description: "\(path) is larger than \(maxSize) bytes") }
        }
        return data
    }

    /// Writes `data` to a new file at `path`, 0600 from the start: a temp file opened with
    /// `O_EXCL|O_NOFOLLOW`, fsynced, then hard-linked into place, which fails if `path` exists.
    /// Returns false when another process created `path` first (read theirs instead).
    static func create(_ path: String, contents data: Data) throws -> Bool {
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temp): \(String(cString: strerror(errno)))") }
        defer { unlink(temp) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else { throw Failure(description: "cannot write \(temp)") }
        if link(temp, path) != 0 {
            if errno == EEXIST { return false }
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// Makes a database file private before SQLite opens it: SQLite gives its `-wal` and `-shm`
    /// files the mode of the database file, so all three end up 0600.
    static func prepareDatabase(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try makePrivate(fd, path)
        for suffix in ["-wal", "-shm"] {
            let side = open(path + suffix, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            if side < 0 {
                if errno == ENOENT { continue }
                throw Failure(description: "cannot open \(path + suffix): \(String(cString: strerror(errno)))")
            }
            defer { close(side) }
            try makePrivate(side, path + suffix)
        }
    }

    /// A regular file of this user's, 0600: another user's database (say, created first in a shared
    /// folder) is refused, since its owner could read the hashes or write a key of their own.
    private static func makePrivate(_ fd: Int32, _ path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: "cannot stat \(path)") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        guard info.st_uid == getuid() else {
            throw Failure(description: "\(path) belongs to another user (uid \(info.st_uid)); the server's database must be its own")
        }
        if info.st_mode & 0o077 != 0, fchmod(fd, 0o600) != 0 {
            throw Failure(description: "cannot make \(path) private (chmod 600): \(String(cString: strerror(errno)))")
        }
    }
}
