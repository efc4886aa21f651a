import Foundation

#if FUZZING
/// libFuzzer's driver (from libclang_rt.fuzzer), which parses libFuzzer flags and runs the fuzz loop.
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Fuzzing build: SwiftPM routes `main` to this type, so it hands control to libFuzzer's driver.
@main
struct FuzzerMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return 0 }
            return fuzz(data, size)
        }
        exit(status)
    }
}
#else
/// Corpus regression runner for builds without libFuzzer: feeds every file named on the command line
/// (directories are walked) through the fuzz entry point, which traps on any invariant violation.
@main
struct FuzzerMain {
    static func main() throws {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: [FUZZ_TARGET=connect|proxy-header|client-hello|framing] ConnectFuzzer FILE_OR_DIRECTORY...  (replays inputs through the fuzz checks)")
            return
        }
        var count = 0
        for path in paths {
            for file in try inputFiles(at: path) {
                replay([UInt8](try Data(contentsOf: file)))
                count += 1
            }
        }
        print("replayed \(count) inputs; all invariants held")
    }

    /// Runs one input through the fuzz entry point, from memory the entry point may read in full.
    static func replay(_ bytes: [UInt8]) {
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
        defer { storage.deallocate() }
        _ = storage.initialize(from: bytes)
        if let base = storage.baseAddress {
            _ = fuzz(base, bytes.count)
        }
    }

    /// The file itself, or every regular file below a directory, sorted.
    static func inputFiles(at path: String) throws -> [URL] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        guard isDirectory.boolValue else { return [url] }
        let names = try FileManager.default.subpathsOfDirectory(atPath: path).sorted()
        return names.map { url.appendingPathComponent($0) }.filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        }
    }
}
#endif
