import FireflyYAML
import Testing

@Suite struct YAMLDocumentTests {
    @Test func composesMappingsSequencesAndScalarsWithPositions() throws {
        let root = try #require(try YAMLDocument.compose("a: 1\nb:\n  - x\n  - 'y'\nc: {d: \"e\"}\n"))
        let a = try #require(root["a"])
        guard case .scalar(let s) = a else { Issue.record("a is not a scalar"); return }
        #expect(s.string == "1" && s.style == .plain)
        #expect(a.mark == YAMLMark(line: 1, column: 4))
        let b = try #require(root["b"]?.sequence)
        #expect(b.items.map(\.string) == ["x", "y"])
        guard case .scalar(let quoted) = b.items[1] else { Issue.record("not a scalar"); return }
        #expect(quoted.style == .singleQuoted)
        #expect(b.items[1].mark == YAMLMark(line: 4, column: 5))
        #expect(root["c"]?["d"]?.string == "e")
        #expect(root.mapping?.entries.map { $0.key.string } == ["a", "b", "c"])
    }

    @Test func keepsDuplicateKeysInOrder() throws {
        let root = try #require(try YAMLDocument.compose("k: 1\nk: 2\n"))
        #expect(root.mapping?.entries.map { $0.value.string } == ["1", "2"])
    }

    @Test func aliasesStandForTheirAnchoredNode() throws {
        let root = try #require(try YAMLDocument.compose("base: &b {x: 1}\nother: *b\nlist: [&s v, *s]\n"))
        #expect(root["other"]?["x"]?.string == "1")
        #expect(root["list"]?.sequence?.items.map(\.string) == ["v", "v"])
    }

    @Test func emptyTextsHoldNoDocument() throws {
        #expect(try YAMLDocument.compose("") == nil)
        #expect(try YAMLDocument.compose("# only a comment\n") == nil)
        let null = try #require(try YAMLDocument.compose("~\n"))
        #expect(null.string == "~")
    }

    @Test func problemsCarryLibyamlsMessageAndPosition() {
        #expect(throws: YAMLError.self) { try YAMLDocument.compose("a: [1, 2\n") }
        do {
            _ = try YAMLDocument.compose("a: 1\n  b: 2\n")
            Issue.record("no error")
        } catch {
            #expect(error.problem == "mapping values are not allowed in this context")
            #expect(error.mark == YAMLMark(line: 2, column: 4))
        }
        do {
            _ = try YAMLDocument.compose("a: *missing\n")
            Issue.record("no error")
        } catch {
            #expect(error.problem == "found undefined alias 'missing'")
            #expect(error.mark == YAMLMark(line: 1, column: 4))
        }
        do {
            _ = try YAMLDocument.compose("a: 1\n---\nb: 2\n")
            Issue.record("no error")
        } catch {
            #expect(error.problem.contains("single document"))
            #expect(error.mark?.line == 2)
        }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: YAMLDocument.maxDepth + 2) + String(repeating: "]", count: YAMLDocument.maxDepth + 2)
        #expect(throws: YAMLError.self) { try YAMLDocument.compose(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect((try? YAMLDocument.compose(fine)) != nil)
    }
}
