#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX file operations. Written against libc rather than Foundation so that the `token`
/// path stays cheap, and so that modes, fsync and rename are exactly what the call says.
enum Posix {
    /// What a read returned: the text and the file's permission bits.
    struct FileContents {
        var text: String
        var mode: mode_t
        var owner: uid_t
    }

    /// Large enough for hundreds of profiles; a bigger file is not ours.
    static let maximumFileSize = 1 << 20

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Reads a whole file; nil when it does not exist.
    static func read(_ path: String) throws(CredentialStoreError) -> FileContents? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .fileUnreadable(path: path, detail: errorText(errno))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileUnreadable(path: path, detail: errorText(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .fileUnreadable(path: path, detail: "it is not a regular file")
        }
        guard Int(info.st_size) <= maximumFileSize else {
            throw .fileUnreadable(path: path, detail: "it is larger than \(maximumFileSize) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var total = 0
        while true {
            if total == bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: 4096)) }
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileUnreadable(path: path, detail: errorText(errno))
            }
            if count == 0 { break }
            total += count
            if total > maximumFileSize {
                throw .fileUnreadable(path: path, detail: "it is larger than \(maximumFileSize) bytes")
            }
        }
        return FileContents(text: String(decoding: bytes[..<total], as: UTF8.self), mode: info.st_mode & 0o7777, owner: info.st_uid)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates `path` and any missing parents; the last component is created 0700.
    static func ensureDirectory(_ path: String) throws(CredentialStoreError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .fileWriteFailed(path: path, detail: "it exists and is not a folder")
            }
            return
        }
        let parent = directoryName(path)
        if parent != path && !parent.isEmpty { try ensureDirectory(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .fileWriteFailed(path: path, detail: "could not create the folder: \(errorText(errno))")
        }
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Deletes the temp files (`NAME.tmp-XXXXXX`) of `names` in `folder` that a killed writer left.
    /// Call only under the folder's exclusive lock: then no writer is alive to own one. They may
    /// hold keys that no profile uses any more.
    static func removeLeftovers(in folder: String, of names: [String]) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        var leftovers: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if names.contains(where: { name.hasPrefix($0 + ".tmp-") && name.count == $0.count + 11 }) { leftovers.append(name) }
        }
        for name in leftovers { unlink(folder + "/" + name) }
    }

    /// Replaces `path` with `text` so that a reader sees the old file or the new one, never a mix:
    /// a 0600 temp file in the same folder, fsync, rename over the target, fsync the folder.
    static func writeAtomically(_ text: String, to path: String) throws(CredentialStoreError) {
        let folder = directoryName(path)
        var template = Array("\(path).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .fileWriteFailed(path: path, detail: "could not create a temporary file in \(folder): \(errorText(errno))")
        }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var committed = false
        defer {
            close(fd)
            if !committed { unlink(tempPath) }
        }
        fchmod(fd, 0o600)
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileWriteFailed(path: path, detail: errorText(errno))
            }
            written += count
        }
        guard fsync(fd) == 0 else { throw .fileWriteFailed(path: path, detail: "fsync: \(errorText(errno))") }
        guard rename(tempPath, path) == 0 else {
            throw .fileWriteFailed(path: path, detail: errorText(errno))
        }
        committed = true
        let dirFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    /// Runs `body` holding an exclusive `flock` on `lockPath`, so that read-modify-write cycles of
    /// concurrent processes run one after another and none loses another's entry.
    static func withExclusiveLock<T>(_ lockPath: String, _ body: () throws(CredentialStoreError) -> T) throws(CredentialStoreError) -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .fileWriteFailed(path: lockPath, detail: "could not open the lock file: \(errorText(errno))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .fileWriteFailed(path: lockPath, detail: "could not lock: \(errorText(errno))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
