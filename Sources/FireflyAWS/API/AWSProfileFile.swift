// The shared AWS files ~/.aws/credentials and ~/.aws/config: INI sections of `key = value` lines.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One parsed shared file: section name → keys. In the config file a profile's section is
/// `[profile NAME]` (`[default]` for the default); in the credentials file it is `[NAME]`.
struct AWSProfileFile: Sendable {
    var sections: [String: [String: String]] = [:]

    init(text: String) {
        var current: String?
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            // An indented line continues a nested setting (`s3 =` followed by its keys): not ours.
            if raw.first == " " || raw.first == "\t" { continue }
            let line = raw.trimmed(keepingNewlines: true)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let end = line.firstIndex(of: "]") else {
                    current = nil
                    continue
                }
                let name = line[line.index(after: line.startIndex)..<end].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmed(keepingNewlines: true).lowercased()
            var value = line[line.index(after: equals)...].trimmed(keepingNewlines: true)
            // An inline comment needs whitespace before it.
            if let comment = value.firstRange(of: " #") ?? value.firstRange(of: " ;") { value = value[..<comment.lowerBound].trimmed(keepingNewlines: true) }
            sections[current, default: [:]][key] = value
        }
    }

    /// The keys of `profile` in a config file (`[profile NAME]`, or `[default]`).
    func configProfile(_ profile: String) -> [String: String]? {
        if profile == "default", let section = sections["default"] { return section }
        return sections["profile \(profile)"]
    }
}
