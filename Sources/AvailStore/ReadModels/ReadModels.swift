import AvailCore
import Foundation
import GRDB

/// The projector's tables: `expert_profiles`, `appointments` and what they are made from, in
/// their own file (`ReadModelStore`). Written only by the projector (`apply`) and by `replace`
/// (a rebuild), each time together with the checkpoint, in one transaction.
public struct ReadModels: Sendable {
    let store: ReadModelStore
    /// The log's file, for what compares the read models with the log.
    let log: AvailDatabase
    /// The generation this value reads and writes; nil: whichever readers use now.
    private let pinned: ReadModelGeneration?

    public init(database: AvailDatabase) {
        self.init(store: database.readModelStore, log: database, pinned: nil)
    }

    private init(store: ReadModelStore, log: AvailDatabase, pinned: ReadModelGeneration?) {
        self.store = store
        self.log = log
        self.pinned = pinned
    }

    /// The same read models, held to `generation` (the projector's: it brings a rebuilt
    /// generation up to date before readers move to it).
    public func pinned(to generation: ReadModelGeneration) -> ReadModels {
        ReadModels(store: store, log: log, pinned: generation)
    }

    /// The generation this reads and writes.
    public var generation: ReadModelGeneration { pinned ?? store.generation }

    var database: any DatabaseWriter { generation.database }

    /// The generation the log's file points at, if a rebuild made one newer than this one's.
    public func newerGeneration() async throws -> ReadModelGeneration? {
        try await store.newerGeneration(than: generation.number)
    }

    /// Readers (every `ReadModels` of this database not pinned) use `generation` from now on.
    public func moveReaders(to generation: ReadModelGeneration) {
        store.adopt(generation)
    }

    /// Deletes the generations left behind once nothing holds them (see `ReadModelStore`).
    public func removeUnusedGenerations() {
        store.removeLeftovers()
    }

    /// The last log position the read models include.
    public func checkpoint() async throws -> Int64 {
        try await database.read { db in try Self.checkpoint(db) }
    }

    /// Every expert, for the projector's directory.
    public func experts() async throws -> [String: ExpertProfile] {
        try await database.read { db in try Self.experts(db) }
    }

    static func checkpoint(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT position FROM projection_checkpoint WHERE name = 'read_models'") ?? 0
    }

    static func setCheckpoint(_ position: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE projection_checkpoint SET position = ? WHERE name = 'read_models'", arguments: [position])
    }

    static func experts(_ db: Database) throws -> [String: ExpertProfile] {
        var experts: [String: ExpertProfile] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM expert_profiles") {
            let expert = try ExpertProfile(row: row)
            experts[expert.id] = expert
        }
        return experts
    }
}

/// JSON for the columns that hold a document; sorted keys so equal values are equal bytes.
enum ColumnJSON {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder.canonical()
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
