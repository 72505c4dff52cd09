import FireflyModel
import Testing

@Suite struct PrometheusNamingTests {
    typealias N = PrometheusNaming

    @Test func cloudWatchNamesFollowYACE() {
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Invocations", statistic: "Sum") == "aws_lambda_invocations_sum")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Duration", statistic: "Average") == "aws_lambda_duration_average")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Duration", statistic: .sampleCount) == "aws_lambda_duration_sample_count")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Duration", statistic: .percentile(0.99)) == "aws_lambda_duration_p99")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Duration", statistic: .percentile(0.999)) == "aws_lambda_duration_p99_9")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "Duration", statistic: .percentile(0.5)) == "aws_lambda_duration_p50")
        #expect(N.cloudWatchMetricName(namespace: "AWS/Lambda", metric: "ConcurrentExecutions", statistic: .maximum) == "aws_lambda_concurrent_executions_maximum")
        #expect(N.cloudWatchMetricName(namespace: "AWS/ELB", metric: "HTTPCode_Backend_4XX", statistic: "Sum") == "aws_elb_httpcode_backend_4_xx_sum")
        #expect(N.cloudWatchMetricName(namespace: "AWS/EBS", metric: "VolumeReadBytes", statistic: "") == "aws_ebs_volume_read_bytes")
        // A custom namespace gets the aws_ prefix; a metric repeating the namespace loses it (Glue).
        #expect(N.cloudWatchMetricName(namespace: "MyApp", metric: "Orders%", statistic: "Sum") == "aws_myapp_orders_percent_sum")
        #expect(N.cloudWatchMetricName(namespace: "Glue", metric: "glue.driver.aggregate.bytesRead", statistic: "Sum") == "aws_glue_driver_aggregate_bytes_read_sum")
        #expect(N.CloudWatchStatistic.percentile(0.9999).cloudWatchName == "p99.99")
    }

    @Test func cloudWatchSummaryBecomesOneGaugePerStatistic() {
        let point = MetricPoint(
            name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
            isDelta: true,
            labels: [Label("FunctionName", "checkout"), Label("cloud.region", "us-east-1"), Label("cloud.account.id", "123456789012"),
                     Label("Resource", "")],
            timeUnixNano: 1_700_000_000_000_000_000, count: 12, sum: 1530,
            quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5), Quantile(0.5, 100)])
        let labels = [Label("account_id", "123456789012"), Label("dimension_FunctionName", "checkout"), Label("region", "us-east-1")]
        #expect(N.series(for: point) == [
            .init(name: "aws_lambda_duration_sum", labels: labels, value: 1530),
            .init(name: "aws_lambda_duration_sample_count", labels: labels, value: 12),
            .init(name: "aws_lambda_duration_minimum", labels: labels, value: 3.2),
            .init(name: "aws_lambda_duration_maximum", labels: labels, value: 812.5),
            .init(name: "aws_lambda_duration_average", labels: labels, value: 127.5),
            .init(name: "aws_lambda_duration_p50", labels: labels, value: 100),
            .init(name: "aws_lambda_duration_p99", labels: labels, value: 790.1),
        ])
    }

    @Test func cloudWatchAverageOnlyWhenCountIsPositive() {
        let point = MetricPoint(name: "Errors", namespace: "AWS/Lambda", kind: .summary, timeUnixNano: 1, count: 0, sum: 0)
        #expect(N.series(for: point).map(\.name) == ["aws_lambda_errors_sum", "aws_lambda_errors_sample_count"])
    }

    @Test func otelNamesFollowTheTranslator() {
        #expect(N.otelMetricName(name: "http.server.request.duration", unit: "s", kind: .histogram, monotonic: false) == "http_server_request_duration_seconds")
        #expect(N.otelMetricName(name: "requests.count", unit: "1", kind: .cumulativeSum, monotonic: true) == "requests_count_total")
        #expect(N.otelMetricName(name: "memory.usage", unit: "By", kind: .gauge, monotonic: false) == "memory_usage_bytes")
        #expect(N.otelMetricName(name: "amazonaws.com/AWS/Lambda/Invocations", unit: "{Count}", kind: .summary, monotonic: false) == "amazonaws_com_AWS_Lambda_Invocations")
        #expect(N.otelMetricName(name: "cpu.utilization", unit: "1", kind: .gauge, monotonic: false) == "cpu_utilization_ratio")
        #expect(N.otelMetricName(name: "queue.size", unit: "1", kind: .cumulativeSum, monotonic: false) == "queue_size")
        #expect(N.otelMetricName(name: "net.io", unit: "By/s", kind: .gauge, monotonic: false) == "net_io_bytes_per_second")
        #expect(N.otelMetricName(name: "duration_seconds", unit: "s", kind: .gauge, monotonic: false) == "duration_seconds")
        #expect(N.otelMetricName(name: "total.requests", unit: "{request}", kind: .cumulativeSum, monotonic: true) == "requests_total")
        #expect(N.otelMetricName(name: "Invocations", unit: "Count", kind: .summary, monotonic: false) == "Invocations_Count")
        #expect(N.otelMetricName(name: "2xx.responses", unit: "", kind: .deltaSum, monotonic: true) == "_2xx_responses")
        #expect(N.otelMetricName(name: "a__b..c", unit: "ms", kind: .gauge, monotonic: false) == "a_b_c_milliseconds")
    }

    @Test func labelNamesAreSanitized() {
        #expect(N.sanitizeLabelName("http.request.method") == "http_request_method")
        #expect(N.sanitizeLabelName("2xx") == "key_2xx")
        #expect(N.sanitizeLabelName("a..b--c") == "a_b_c")
        #expect(N.sanitizeLabelName("__name__") == "_name_")
        #expect(N.sanitizeLabelName("...") == "")
        #expect(N.sanitizeLabelName("Ünïcode") == "_n_code")
        #expect(N.cloudWatchDimensionLabel("Function.Name") == "dimension_Function_Name")
        #expect(N.sanitizeMetricName("9a.b:c") == "_9a_b:c")
    }

    @Test func labelSetsAreSortedByteWiseUniqueAndWithoutEmptyValues() {
        let labels = N.canonicalLabels([Label("b", "2"), Label("a_b", "x"), Label("a_b", "y"), Label("e", ""), Label("A", "1")])
        #expect(labels == [Label("A", "1"), Label("a_b", "x;y"), Label("b", "2")])
        let set = N.labelSet(name: "m", labels: [Label("dimension_FunctionName", "f"), Label("FunctionName", "f")])
        #expect(set.map(\.key) == ["FunctionName", "__name__", "dimension_FunctionName"])
    }

    @Test func otelPointsBecomeSeriesByKind() {
        let t: UInt64 = 1_700_000_000_000_000_000
        let labels = [Label("faas.name", "checkout"), Label("service.name", "shop"), Label("http.route", "/pay")]
        let counter = MetricPoint(name: "http.requests", unit: "{request}", kind: .cumulativeSum, isMonotonic: true, labels: labels, timeUnixNano: t, value: 7)
        let expected = [Label("faas_name", "checkout"), Label("http_route", "/pay"), Label("job", "shop"), Label("service_name", "shop")]
        #expect(N.series(for: counter) == [.init(name: "http_requests_total", labels: expected, value: 7)])

        let histogram = MetricPoint(
            name: "http.server.request.duration", unit: "s", kind: .histogram, labels: [Label("x", "1")], timeUnixNano: t,
            count: 6, sum: 2.5, bounds: [0.005, 0.1, 1], bucketCounts: [1, 2, 3, 0])
        let h = "http_server_request_duration_seconds"
        #expect(N.series(for: histogram) == [
            .init(name: h + "_bucket", labels: [Label("le", "0.005"), Label("x", "1")], value: 1),
            .init(name: h + "_bucket", labels: [Label("le", "0.1"), Label("x", "1")], value: 3),
            .init(name: h + "_bucket", labels: [Label("le", "1"), Label("x", "1")], value: 6),
            .init(name: h + "_bucket", labels: [Label("le", "+Inf"), Label("x", "1")], value: 6),
            .init(name: h + "_sum", labels: [Label("x", "1")], value: 2.5),
            .init(name: h + "_count", labels: [Label("x", "1")], value: 6),
        ])
        var delta = histogram
        delta.isDelta = true
        #expect(N.series(for: delta).isEmpty)

        let summary = MetricPoint(name: "rpc.latency", unit: "ms", kind: .summary, timeUnixNano: t, count: 4, sum: 10,
                                  quantiles: [Quantile(1, 5), Quantile(0, 1), Quantile(0.99, 4.5)])
        #expect(N.series(for: summary) == [
            .init(name: "rpc_latency_milliseconds", labels: [Label("quantile", "0")], value: 1),
            .init(name: "rpc_latency_milliseconds", labels: [Label("quantile", "0.99")], value: 4.5),
            .init(name: "rpc_latency_milliseconds", labels: [Label("quantile", "1")], value: 5),
            .init(name: "rpc_latency_milliseconds_sum", labels: [], value: 10),
            .init(name: "rpc_latency_milliseconds_count", labels: [], value: 4),
        ])
    }

    @Test func floatsAreFormattedLikeGo() {
        #expect(N.formatFloat(0.99) == "0.99")
        #expect(N.formatFloat(1) == "1")
        #expect(N.formatFloat(0) == "0")
        #expect(N.formatFloat(1.5e-05) == "0.000015")
        #expect(N.formatFloat(2.5e21) == "2500000000000000000000")
        #expect(N.formatFloat(-250) == "-250")
        #expect(N.formatFloat(.infinity) == "+Inf")
        #expect(N.formatFloat(-.infinity) == "-Inf")
    }
}
