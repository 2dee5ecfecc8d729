import AvailCore
import Foundation
import Testing

@Suite struct DeliveryFileTests {
    @Test func aJSONFileIsOneBodyLessTrailingWhiteSpace() {
        let bodies = DeliveryFile.bodies(contents: Data("{\n  \"a\": 1\n}\n\n \t".utf8), isJSONLines: false)
        #expect(bodies.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\n  \"a\": 1\n}"])
    }

    @Test func aJSONLinesFileIsOneBodyPerLine() {
        let contents = Data("{\"a\":1}\r\n\n{\"b\":2}  \n{\"c\":3}".utf8)
        let bodies = DeliveryFile.bodies(contents: contents, isJSONLines: true)
        #expect(bodies.map(\.line) == [1, 3, 4])
        #expect(bodies.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}  ", "{\"c\":3}"])
    }
}
