public enum FireflyGrafana {}
