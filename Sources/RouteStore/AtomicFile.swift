#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File operations the store needs: atomic replace (temp file, fsync, rename, fsync of the folder) and stat.
enum AtomicFile {
    /// Replaces `path` with `contents` so that a crash at any moment leaves either the old or the new file.
    static func write(_ contents: String, to path: String) throws(StoreError) {
        let dir = directory(of: path)
        let tmp = "\(path).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot create \(tmp): \(errnoText())") }
        var bytes = Array(contents.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errnoText()
                close(fd)
                unlink(tmp)
                throw .io("cannot write \(tmp): \(reason)")
            }
            offset += n
        }
        bytes.removeAll()
        if fsync(fd) != 0 {
            let reason = errnoText()
            close(fd)
            unlink(tmp)
            throw .io("cannot fsync \(tmp): \(reason)")
        }
        close(fd)
        if rename(tmp, path) != 0 {
            let reason = errnoText()
            unlink(tmp)
            throw .io("cannot rename \(tmp) to \(path): \(reason)")
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads a whole file as UTF-8 text.
    static func read(_ path: String) throws(StoreError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Identity of the file's current content on disk (inode, size, mtime); nil when it does not exist.
    static func fingerprint(_ path: String) -> [Int]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
