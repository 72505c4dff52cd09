import FireflyTestSupport
import Foundation
import Testing

@testable import FireflyCore

@Suite struct ELFFileCheckTests {
    func truncated(_ product: String, to size: Int) throws -> String {
        let whole = try Data(contentsOf: URL(fileURLWithPath: BuildProducts.library(product)))
        let file = NSTemporaryDirectory() + "elf-check-\(UUID().uuidString).so"
        try whole.prefix(size).write(to: URL(fileURLWithPath: file))
        return file
    }

    @Test func acceptsTheBuiltPlugins() throws {
        for product in ["FireflyTestCAdapter", "FireflyDebugPlugin"] {
            #expect(throws: Never.self) { try ELFFileCheck.check(path: BuildProducts.library(product)) }
        }
    }

    /// Every cut of a real plugin — inside the ELF header, the program headers, a segment, the
    /// section headers at the end — is refused before `dlopen` maps it.
    @Test func refusesEveryTruncation() throws {
        let size = try Data(contentsOf: URL(fileURLWithPath: BuildProducts.library("FireflyTestCAdapter"))).count
        var cuts = [0, 1, 4, 16, 63, 64, 65, 100, 1_000, size / 2, size - 1]
        cuts += stride(from: 4096, to: size, by: 4096).map { $0 }
        for cut in cuts {
            let file = try truncated("FireflyTestCAdapter", to: cut)
            defer { try? FileManager.default.removeItem(atPath: file) }
            #expect(throws: ELFFileCheck.Problem.self, "cut at \(cut) of \(size)") { try ELFFileCheck.check(path: file) }
            #expect {
                try PluginLibrary(file: file)
            } throws: { error in
                (error as? PluginLoadError)?.description.hasPrefix("\(file): cannot load: ") == true
            }
        }
    }

    @Test func namesWhatIsWrong() throws {
        let file = try truncated("FireflyDebugPlugin", to: 10_000)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect {
            try ELFFileCheck.check(path: file)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("truncated or damaged shared object (file is 10000 bytes): ") && text.contains("past the end of the file")
        }
        let text = NSTemporaryDirectory() + "elf-check-\(UUID().uuidString).so"
        try Data("not an ELF file at all, just text".utf8).write(to: URL(fileURLWithPath: text))
        defer { try? FileManager.default.removeItem(atPath: text) }
        #expect(throws: ELFFileCheck.Problem(description: "not an ELF shared object (file is 33 bytes)")) {
            try ELFFileCheck.check(path: text)
        }
    }
}
