// libyaml, the reference C YAML parser (Debian: libyaml-dev), which reads firefly.yaml.
#include <yaml.h>
