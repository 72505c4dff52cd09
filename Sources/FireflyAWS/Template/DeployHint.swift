// The commands that follow `firefly aws template`: deploy the stack, then check it.

extension StackTemplate {
    /// The `aws cloudformation deploy` command for `file`, with the access key taken from the
    /// environment variable firefly.yaml reads it from (its value is never printed).
    public func deployCommand(file: String, defaults: ReceiverDefaults) -> String {
        var command = "aws cloudformation deploy --stack-name firefly --template-file \(file) --capabilities CAPABILITY_IAM"
        if case .parameter = options.accessKey {
            let variable = defaults.accessKeyVariable ?? "FIREHOSE_ACCESS_KEY"
            command += " \\\n    --parameter-overrides AccessKey=\"$\(variable)\""
        }
        return command
    }

    /// Notes on what the receiver's configuration (`configFile`, nil when none was read) means for
    /// this stack, for standard error.
    public func notes(defaults: ReceiverDefaults, configFile: String?) -> [String] {
        var notes: [String] = []
        if let configFile, defaults.receiver == nil {
            notes.append("note: \(configFile) has no firehose receiver; add one (plugins/firehose/README.md) so Firefly accepts these deliveries")
        }
        if let configFile, defaults.receiver != nil, defaults.accessKeyVariable == nil && !defaults.hasLiteralAccessKey {
            notes.append(
                "warning: the firehose receiver in \(configFile) lists no access key, so it accepts any sender: set access_keys: [\"${FIREHOSE_ACCESS_KEY}\"] and start Firefly with that variable")
        }
        if case .secretsManager = options.accessKey {
            notes.append("note: the secret must hold {\"api_key\": \"<one of the receiver's access_keys>\"}; a secret encrypted with a customer-managed KMS key also needs kms:Decrypt for the stack's FirehoseRole")
        }
        if !options.logFunctions.isEmpty {
            notes.append("note: each subscribed log group (/aws/lambda/NAME) must exist before the stack is deployed: it appears with the function's first invocation")
        }
        return notes
    }
}
