import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct OpenAPIDocumentTests {
    /// The embedded copy (scripts/embed-openapi.sh) must be the file in the repository, byte for
    /// byte: run `make openapi` after editing openapi.yaml.
    @Test func servesOpenAPIYAMLAsItIsOnDisk() async throws {
        let onDisk = try Data(contentsOf: TestPaths.repository.appendingPathComponent("openapi.yaml"))
        try await withDaemon { daemon in
            let response = try await daemon.client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.headers[HTTPField.Name("Log-Position")!] != nil)
            let served = Data(response.body.readableBytesView)
            #expect(served == onDisk, "the served document differs from openapi.yaml: run `make openapi`")
        }
    }
}
