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
}
