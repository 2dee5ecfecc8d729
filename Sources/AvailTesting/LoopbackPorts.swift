import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports nothing listens on now, for a server whose port must be known before it starts
/// (PostgreSQL, a daemon whose URL a subscription names first). Chosen below the kernel's
/// ephemeral range, where no `--port 0` listener of another test and no outgoing connection's
/// source port is put, so a port stays free until its server binds it seconds later (a port from
/// that range was taken in between under the parallel suite).
public enum LoopbackPorts {
    /// Up to `count` ports, in random order, each bindable on 127.0.0.1 when checked.
    public static func free(_ count: Int) -> [Int] {
        let candidates = Array(10_000..<max(10_001, min(ephemeralStart, 32768))).shuffled()
        return Array(candidates.prefix(200).lazy.filter(canBind).prefix(count))
    }

    /// The first port of the kernel's ephemeral range.
    public static var ephemeralStart: Int {
        (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }.first ?? 32768
    }

    /// Whether a listener could bind 127.0.0.1:`port` now.
    public static func canBind(_ port: Int) -> Bool {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
