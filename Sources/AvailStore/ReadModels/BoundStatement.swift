import GRDB
import GRDBSQLite

/// One of the read models' hot statements, its parameters bound straight through SQLite's C
/// API: a row of 24 columns costs no `StatementArguments` boxing (a third of an insert's time
/// in GRDB's `execute(arguments:)`). The statement is GRDB's cached one, so it is prepared once
/// per connection.
///
/// Bind every parameter in order, then `run`; `run` resets the statement for the next row.
struct BoundStatement {
    private let statement: Statement
    private let handle: SQLiteStatement
    private var parameter: CInt = 0
    /// The first binding that failed (too big, out of range, out of memory): `run` throws it.
    private var failure: CInt = SQLITE_OK

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        sqlite3_reset(handle)
    }

    mutating func text(_ value: String?) {
        parameter += 1
        guard var value else { return bind(sqlite3_bind_null(handle, parameter)) }
        let code = value.withUTF8 { utf8 -> CInt in
            guard let base = utf8.baseAddress else {
                // An empty buffer may have no address, which SQLite would take for NULL.
                return sqlite3_bind_text(handle, parameter, "", 0, SQLITE_TRANSIENT)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text(handle, parameter, $0, CInt(utf8.count), SQLITE_TRANSIENT)
            }
        }
        bind(code)
    }

    mutating func blob(_ bytes: [UInt8]) {
        parameter += 1
        let code = bytes.withUnsafeBytes { raw -> CInt in
            guard let base = raw.baseAddress else { return sqlite3_bind_zeroblob(handle, parameter, 0) }
            return sqlite3_bind_blob(handle, parameter, base, CInt(raw.count), SQLITE_TRANSIENT)
        }
        bind(code)
    }

    mutating func bool(_ value: Bool) {
        parameter += 1
        bind(sqlite3_bind_int64(handle, parameter, value ? 1 : 0))
    }

    mutating func integer(_ value: Int64) {
        parameter += 1
        bind(sqlite3_bind_int64(handle, parameter, value))
    }

    /// Runs the statement with what was bound, and makes it ready for the next row.
    mutating func run(_ db: Database) throws {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            parameter = 0
            failure = SQLITE_OK
        }
        guard failure == SQLITE_OK else { throw error(failure, db) }
        guard parameter == sqlite3_bind_parameter_count(handle) else {
            throw DatabaseError(
                resultCode: .SQLITE_RANGE, message: "\(parameter) of \(sqlite3_bind_parameter_count(handle)) parameters bound",
                sql: statement.sql)
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code, db) }
    }

    private mutating func bind(_ code: CInt) {
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
    }

    private func error(_ code: CInt, _ db: Database) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) },
            sql: statement.sql)
    }
}

private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
