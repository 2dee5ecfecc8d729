import AvailCore
import Foundation
import HTTPTypes

extension Problem {
    /// The problem as a whole HTTP/1.1 response that closes the connection, for the guards
    /// that answer below Hummingbird.
    func rawResponse(logPosition: Int64, retryAfter: Int?) -> [UInt8] {
        let body = (try? JSONEncoder.canonical().encode(document)) ?? Data()
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head += "Content-Type: application/problem+json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        head += "Log-Position: \(logPosition)\r\n"
        if let retryAfter { head += "Retry-After: \(retryAfter)\r\n" }
        return Array((head + "\r\n").utf8) + Array(body)
    }
}
