// How webhook mapping errors name the type of a JSON value.
import FireflyWire

extension JSON {
    /// The JSON type name used in error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
