import ArgumentParser
import AvailCore
import AvailServer
import AvailStore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the log as JSON Lines, one GET /events item per line.",
        discussion: "Each line holds everything the log stores, so `availd export | availd import --database URL` copies it.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withLog { log, _ in
            var after: Int64 = 0
            while true {
                let page = try await log.events(after: after, limit: 1000)
                guard let last = page.last else { break }
                var chunk = Data()
                for event in page {
                    chunk.append(try EventItem(event).jsonLine())
                    chunk.append(UInt8(ascii: "\n"))
                }
                FileHandle.standardOutput.write(chunk)
                after = last.position
            }
        }
    }
}
