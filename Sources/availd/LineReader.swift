import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file, or standard input, a line at a time (`getline`: any length), for `import`.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// Bytes read so far, newlines included.
    private(set) var bytesRead: Int64 = 0
    /// The file's size, when it is a regular file (nil for a pipe).
    let size: Int64?

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// `path` nil or "-" reads standard input.
    init(path: String?) throws {
        if let path, path != "-" {
            guard let file = fopen(path, "r") else {
                throw Unreadable(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            self.file = file
        } else {
            // Its own FILE over descriptor 0, rather than the C library's shared `stdin`.
            guard let file = fdopen(dup(STDIN_FILENO), "r") else {
                throw Unreadable(description: "cannot read standard input: \(String(cString: strerror(errno)))")
            }
            self.file = file
        }
        var status = stat()
        self.size = fstat(fileno(file), &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG ? Int64(status.st_size) : nil
    }

    /// The next line without its newline, or nil at the end.
    func next() throws -> Data? {
        let count = getline(&buffer, &capacity, file)
        guard count >= 0 else {
            if ferror(file) != 0 { throw Unreadable(description: "cannot read: \(String(cString: strerror(errno)))") }
            return nil
        }
        bytesRead += Int64(count)
        var length = count
        if length > 0, buffer![length - 1] == 0x0A { length -= 1 }
        return buffer!.withMemoryRebound(to: UInt8.self, capacity: count) { Data(bytes: $0, count: length) }
    }

    deinit {
        free(buffer)
        fclose(file)
    }
}
