/// CloudWatch `StandardUnit` names and their UCUM spellings in the OpenTelemetry stream formats
/// (wire-formats spec B.2), so points keep the CloudWatch unit whichever format the stream uses.
enum CloudWatchUnit {
    private static let fromUCUMTable: [String: String] = [
        "s": "Seconds", "us": "Microseconds", "ms": "Milliseconds",
        "By": "Bytes", "kBy": "Kilobytes", "MBy": "Megabytes", "GBy": "Gigabytes", "TBy": "Terabytes",
        "bit": "Bits", "kbit": "Kilobits", "MBit": "Megabits", "GBit": "Gigabits", "Tbit": "Terabits",
        // Spellings seen in UCUM itself, in case AWS aligns its casing one day.
        "Mbit": "Megabits", "Gbit": "Gigabits", "TBit": "Terabits",
        "%": "Percent", "{Count}": "Count", "1": "None", "": "None",
    ]

    /// The CloudWatch unit for an OTel unit: `ms` → `Milliseconds`, `By/s` → `Bytes/Second`,
    /// `{Count}/s` → `Count/Second`. Unknown units pass through unchanged.
    static func fromUCUM(_ unit: String) -> String {
        if let u = fromUCUMTable[unit] { return u }
        if unit.hasSuffix("/s"), let base = fromUCUMTable[String(unit.dropLast(2))], base != "None" {
            return base + "/Second"
        }
        return unit
    }
}
