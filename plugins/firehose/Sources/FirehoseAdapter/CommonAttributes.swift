import FireflyWire
public import FireflyModel

/// The `X-Amz-Firehose-Common-Attributes` header: `{"commonAttributes": {"k": "v", …}}`, built
/// from the delivery stream's optional "Parameters".
public enum CommonAttributes {
    /// The attributes as labels (string values only, other types are skipped), or nil when the
    /// header is not of that shape.
    public static func parse(_ header: String) -> [Label]? {
        var text = header
        return text.withUTF8 { bytes -> [Label]? in
            var s = JSONScanner(bytes)
            var labels: [Label] = []
            do throws(JSONSyntaxError) {
                try s.readObject { (s, key) throws(JSONSyntaxError) in
                    guard s.string(key) == "commonAttributes", try s.peek() == UInt8(ascii: "{") else {
                        try s.skipValue()
                        return
                    }
                    try s.readObject { (s, key) throws(JSONSyntaxError) in
                        guard try s.peek() == UInt8(ascii: "\"") else {
                            try s.skipValue()
                            return
                        }
                        let value = try s.readString()
                        labels.append(Label(s.string(key), value))
                    }
                }
                try s.expectEnd()
            } catch {
                return nil
            }
            return labels
        }
    }
}
