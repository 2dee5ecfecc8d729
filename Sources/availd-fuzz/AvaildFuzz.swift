import AvailFuzzing
import Foundation

#if FUZZING
/// libFuzzer's entry point (`make fuzz` builds with `-sanitize=fuzzer -DFUZZING`): a property
/// that fails traps, so libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do {
        try HostileInput.check(input)
    } catch {
        fatalError(error.description)
    }
    return 0
}
#else
/// Without libFuzzer: replays inputs (files, or every file in folders) against the properties,
/// e.g. `swift run availd-fuzz .build-fuzz/corpus crash-…`. Exits 1 if any fails.
@main
struct AvaildFuzz {
    static func main() throws {
        var files: [URL] = []
        for argument in CommandLine.arguments.dropFirst() {
            let url = URL(fileURLWithPath: argument)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw ReplayError(description: "\(argument): no such file")
            }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
                files += names.map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        var failures = 0
        for file in files {
            do {
                try HostileInput.check(Array(try Data(contentsOf: file)))
            } catch let violation as Violation {
                failures += 1
                print("\(file.path): \(violation)")
            }
        }
        print("\(files.count - failures) passed, \(failures) failed")
        if failures > 0 { exit(1) }
    }

    struct ReplayError: Error, CustomStringConvertible {
        var description: String
    }
}
#endif
