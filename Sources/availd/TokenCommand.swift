import ArgumentParser
import AvailCore
import AvailServer
import AvailStore

/// `availd token issue|list|revoke`: expert tokens from the command line, as the admin would
/// over HTTP. Works beside a running daemon: the token is valid at once.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, list and revoke expert tokens.",
        subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for an expert and print it; it is shown this once and stored hashed.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The expert's id.") var expert: String
        @Option(help: "A note to tell tokens apart, 1 to 100 characters.") var label: String?

        func run() async throws {
            let label: String?
            do {
                label = try self.label.map(ExpertToken.label)
            } catch {
                throw ValidationError("--label \(error.reason)")
            }
            let (record, token) = try await database.withDatabase(logger: try database.logger()) { db in
                guard try await db.readModels.expert(id: expert) != nil else {
                    throw ValidationError("no expert \(expert): create it first (PUT /experts/\(expert))")
                }
                return try await db.storesWithoutSecrets.expertTokens.issue(expertID: expert, label: label, at: .now())
            }
            say("token \(token.bearer)")
            say("id \(record.id)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an expert's valid tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The expert's id.") var expert: String

        func run() async throws {
            let records = try await database.withDatabase(logger: try database.logger()) { db in
                try await db.storesWithoutSecrets.expertTokens.active(expertID: expert)
            }
            for record in records {
                say("\(record.id) \(record.createdAt) \(record.label ?? "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one of an expert's tokens.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The expert's id.") var expert: String
        @Option(help: "The token's id (tok_…).") var id: String

        func run() async throws {
            let revoked = try await database.withDatabase(logger: try database.logger()) { db in
                try await db.storesWithoutSecrets.expertTokens.revoke(expertID: expert, tokenID: id, at: .now())
            }
            guard revoked else { throw ValidationError("expert \(expert) has no valid token \(id)") }
            say("revoked \(id)")
        }
    }
}
