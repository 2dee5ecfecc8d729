import AvailCore
@testable import AvailStore
import Foundation
import GRDB
import Testing

@Suite struct ExpertTokensTests {
    @Test func aTokenIsFoundByItsSecretOnlyUntilRevoked() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        let tokens = ExpertTokens(database: database)
        let (record, token) = try await tokens.issue(expertID: "ada", label: "laptop", at: Timestamp(microseconds: 1))
        #expect(record.expertID == "ada")
        #expect(try await tokens.expert(for: token) == "ada")
        var wrong = token
        wrong.secret = String(token.secret.dropLast()) + (token.secret.hasSuffix("A") ? "B" : "A")
        #expect(try await tokens.expert(for: wrong) == nil)
        #expect(try await tokens.expert(for: ExpertToken.generate()) == nil)
        #expect(try await tokens.revoke(expertID: "grace", tokenID: token.id, at: Timestamp(microseconds: 2)) == false)
        #expect(try await tokens.expert(for: token) == "ada")
        #expect(try await tokens.revoke(expertID: "ada", tokenID: token.id, at: Timestamp(microseconds: 2)))
        #expect(try await tokens.expert(for: token) == nil)
        #expect(try await tokens.active(expertID: "ada").isEmpty)
        #expect(try await tokens.revoke(expertID: "ada", tokenID: token.id, at: Timestamp(microseconds: 3)) == false)
    }

    @Test func onlyTheSecretsHashIsStored() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        let (_, token) = try await ExpertTokens(database: database).issue(expertID: "ada", label: nil, at: Timestamp(microseconds: 1))
        let cells = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM expert_tokens").flatMap { row in
                row.databaseValues.map { value -> Data in
                    switch value.storage {
                    case .string(let text): Data(text.utf8)
                    case .blob(let data): data
                    default: Data("\(value)".utf8)
                    }
                }
            }
        }
        #expect(!cells.isEmpty)
        for cell in cells {
            #expect(cell.range(of: Data(token.secret.utf8)) == nil)
            #expect(cell.range(of: Data(token.bearer.utf8)) == nil)
        }
        #expect(cells.contains(Data(token.secretHash)))
    }
}
