import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OpenAPIDocumentTests {
    /// Served as the build embedded it: the file itself, as YAML, like every answer with its
    /// Log-Position.
    @Test func servesOpenAPIYAMLAsItIsOnDisk() async throws {
        let onDisk = try Data(contentsOf: TestPaths.repository.appendingPathComponent("Sources/AvailServer/Resources/openapi.yaml"))
        try await withDaemon { daemon in
            let response = try await daemon.client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.headers[HTTPField.Name("Log-Position")!] != nil)
            let served = Data(response.body.readableBytesView)
            #expect(served == onDisk, "the served document differs from Resources/openapi.yaml")
        }
    }

    /// The table of refusals in the document is `ProblemCode`, in its order; every code an
    /// operation lists is one of them, and every one is listed by some operation or the table's
    /// connection-level rows.
    @Test func theDocumentsCodesAreProblemCode() throws {
        let document = try String(
            contentsOf: TestPaths.repository.appendingPathComponent("Sources/AvailServer/Resources/openapi.yaml"), encoding: .utf8)
        var table: [String] = []
        for line in document.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where line.hasPrefix("| `") {
            let first = line.split(separator: "|")[0]
            table += first.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
        }
        #expect(table == ProblemCode.allCases.map(\.rawValue))

        var listed = Set<String>()
        for line in document.split(separator: "\n") {
            for marker in ["x-problem-codes: [", "code: {enum: ["] {
                guard let start = line.range(of: marker), let end = line[start.upperBound...].firstIndex(of: "]") else { continue }
                listed.formUnion(line[start.upperBound..<end].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
        }
        #expect(!listed.isEmpty)
        #expect(listed.subtracting(ProblemCode.allCases.map(\.rawValue)).isEmpty, "codes the operations list that ProblemCode lacks")
    }
}
