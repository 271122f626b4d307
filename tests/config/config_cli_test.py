#!/usr/bin/env python3
"""End-to-end scenarios for `taho config`, one per ctest test.

Usage: config_cli_test.py TAHO_BINARY SCENARIO

Each scenario runs the real binary in a fresh temporary directory with an
environment holding only PATH and what the scenario sets, so the caller's
TAHO__ variables and home directory never leak in.
"""
import json
import os
import subprocess
import sys
import tempfile

TAHO = sys.argv[1] if len(sys.argv) > 1 else "taho"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def peer_id(seed):
    """A libp2p Ed25519 peer id: base58btc of the identity multihash of the
    protobuf PublicKey {type: Ed25519, data: 32 bytes}."""
    digest = bytes([0x08, 0x01, 0x12, 0x20]) + bytes([seed]) * 32
    multihash = bytes([0x00, len(digest)]) + digest
    number = int.from_bytes(multihash, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = BASE58[rest] + text
    zeros = len(multihash) - len(multihash.lstrip(b"\0"))
    return "1" * zeros + text


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Run:
    def __init__(self, args, env, result):
        self.args, self.env = args, env
        self.code, self.out, self.err = result.returncode, result.stdout, result.stderr

    def __str__(self):
        return f"taho {' '.join(self.args)} (env {self.env}) -> exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as error:
            raise Failure(f"stdout is not JSON ({error}):\n{self}")


def taho(args, env=None, home=None, expect=0):
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if home is not None:
        environment["TAHO_HOME"] = home
    environment.update(env or {})
    result = subprocess.run([TAHO, *args], env=environment, capture_output=True, text=True, timeout=30)
    run = Run(args, env, result)
    if expect is not None:
        check(run.code == expect, f"expected exit {expect}:\n{run}")
    return run


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write(text)


def read(path):
    with open(path) as file:
        return file.read()


def scenario_show_defaults(home):
    run = taho(["config"], home=home)
    lines = run.out.splitlines()
    check(lines[0] == f"config file: {home}/config.toml (not created yet)", f"first line names the file:\n{run}")
    check(f"data dir:    {home}" in run.out, f"data dir shown:\n{run}")
    for expected in ["mesh.min_peers", "= 4", "(default)", 'api.listen                  = "127.0.0.1:9481"']:
        check(expected in run.out, f"{expected!r} missing:\n{run}")
    check(not os.path.exists(f"{home}/config.toml"), "showing the config must not create the file")


def scenario_json_types(home):
    answer = taho(["config", "--json"], home=home).json()
    check(answer["config_file"] == f"{home}/config.toml", f"config_file: {answer['config_file']}")
    check(answer["data_dir"] == home, f"data_dir: {answer['data_dir']}")
    values = answer["values"]
    check(values["mesh.min_peers"] == {"value": 4, "source": "default", "where": "default"}, str(values["mesh.min_peers"]))
    check(values["mesh.mdns"]["value"] is True, "mdns is a JSON boolean")
    check(values["content.max_store_gb"]["value"] == 50.0 and isinstance(values["content.max_store_gb"]["value"], float),
          "max_store_gb is a JSON number")
    check(values["mesh.listen"]["value"] == ["/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1",
                                             "/ip4/0.0.0.0/tcp/4002/ws"], str(values["mesh.listen"]))
    check(values["mesh.heartbeat"]["value"] == "1s", "durations are strings")
    check(list(values)[0] == "mesh.bootstrap", "values come in schema order")
    # Global flags may come before the subcommand too.
    check(taho(["--json", "config"], home=home).json()["values"]["log.level"]["value"] == "info", "--json first")


def scenario_precedence(home):
    write(f"{home}/config.toml", "[mesh]\nmin_peers = 5\nmax_peers = 50\nmdns = false\n[log]\nlevel = \"warn\"\n")
    env = {"TAHO__MESH__MIN_PEERS": "6", "TAHO__MESH__MAX_PEERS": "60"}
    values = taho(["config", "--json", "--set", "mesh.min_peers=7"], env=env, home=home).json()["values"]
    check(values["mesh.min_peers"] == {"value": 7, "source": "flag", "where": "--set mesh.min_peers=7"},
          f"flag beats env and file: {values['mesh.min_peers']}")
    check(values["mesh.max_peers"] == {"value": 60, "source": "env", "where": "TAHO__MESH__MAX_PEERS"},
          f"env beats file: {values['mesh.max_peers']}")
    check(values["mesh.mdns"] == {"value": False, "source": "file", "where": f"{home}/config.toml:4"},
          f"file beats default: {values['mesh.mdns']}")
    check(values["mesh.heartbeat"]["source"] == "default", "untouched keys stay default")
    # Without the flag the environment decides; without both, the file.
    check(taho(["config", "get", "mesh.min_peers"], env=env, home=home).out == "6\n", "env without flag")
    check(taho(["config", "get", "mesh.min_peers"], home=home).out == "5\n", "file alone")
    text = taho(["config", "--set", "mesh.min_peers=7"], env=env, home=home).out
    check("(flag --set mesh.min_peers=7)" in text and "(env TAHO__MESH__MAX_PEERS)" in text
          and f"({home}/config.toml:4)" in text, f"text output names sources:\n{text}")


def scenario_fabric_alias(home):
    a = f"/ip4/10.0.0.1/tcp/4001/p2p/{peer_id(1)}"
    b = f"/dns4/boot.example.org/tcp/4001/p2p/{peer_id(2)}"
    env = {"taho__fabric__bootstrap": f"{a}, {b}", "TAHO__Services__Trusted_Deployers": peer_id(3)}
    values = taho(["config", "--json"], env=env, home=home).json()["values"]
    check(values["mesh.bootstrap"] == {"value": [a, b], "source": "env", "where": "taho__fabric__bootstrap"},
          str(values["mesh.bootstrap"]))
    check(values["services.trusted_deployers"]["value"] == [peer_id(3)], str(values["services.trusted_deployers"]))


def scenario_bad_file(home):
    write(f"{home}/config.toml", "# mine\n[mesh]\nmin_peers = \"four\"\nbogus = 1\nlisten = [\"/ip4/1.2.3.4/tcp/x\"]\n")
    for args in (["config"], ["config", "--json"], ["config", "get", "mesh.mdns"]):
        run = taho(args, home=home, expect=2)
        check(f'{home}/config.toml:3: [mesh] min_peers: expected an integer, got string "four"' in run.err, str(run))
        check(f"{home}/config.toml:4: [mesh] bogus: unknown key" in run.err, str(run))
        check(f"{home}/config.toml:5: [mesh] listen: \"/ip4/1.2.3.4/tcp/x\" is not a valid multiaddr" in run.err,
              str(run))
        check(run.out == "", f"nothing on stdout on error:\n{run}")


def scenario_bad_env(home):
    run = taho(["config"], env={"TAHO__MESH__MDNS": "maybe"}, home=home, expect=2)
    check('TAHO__MESH__MDNS: expected true/false, got "maybe"' in run.err, str(run))
    run = taho(["config"], env={"TAHO__MESH__MIN_PEER": "3"}, home=home, expect=2)
    check("TAHO__MESH__MIN_PEER: unknown config variable (did you mean TAHO__MESH__MIN_PEERS?)" in run.err, str(run))
    run = taho(["config", "--set", "mesh.heartbeat=1ms"], home=home, expect=2)
    check('--set mesh.heartbeat=1ms: must be within 10ms..10m, got "1ms"' in run.err, str(run))
    run = taho(["config", "--set", "mesh.nope"], home=home, expect=2)
    check("--set mesh.nope: expected SECTION.KEY=VALUE" in run.err, str(run))


def scenario_syntax_error(home):
    write(f"{home}/config.toml", "[mesh]\nmdns = true\nmin_peers = = 3\n")
    run = taho(["config"], home=home, expect=2)
    check(f"{home}/config.toml:3:13: invalid TOML" in run.err, str(run))


def scenario_get_set(home):
    run = taho(["config", "set", "mesh.min_peers", "8"], home=home)
    check(run.out.startswith("mesh.min_peers: 4 (default) -> 8"), str(run))
    text = read(f"{home}/config.toml")
    check("\nmin_peers = 8\n" in text and "# max_peers = 64\n" in text, f"edited in place, comments kept:\n{text}")
    check(taho(["config", "get", "mesh.min_peers"], home=home).out == "8\n", "get after set")
    check(taho(["config", "get", "mesh.min_peers", "--json"], home=home).out == "8\n", "get --json")
    check(taho(["config", "get", "mesh.mdns", "--json"], home=home).out == "true\n", "get --json bool")
    check(taho(["config", "get", "mesh.heartbeat"], home=home).out == "1s\n", "get duration")

    run = taho(["config", "set", "mesh.min_peers", "9"], home=home)
    check(run.out.startswith("mesh.min_peers: 8 -> 9"), str(run))
    check(read(f"{home}/config.toml") == text.replace("min_peers = 8", "min_peers = 9"), "only the value changed")

    before = read(f"{home}/config.toml")
    run = taho(["config", "set", "mesh.mdns", "maybe"], home=home, expect=2)
    check('mesh.mdns: expected true/false, got "maybe"' in run.err, str(run))
    run = taho(["config", "set", "mesh.max_peers", "3"], home=home, expect=2)
    check("max_peers (3) must be at least min_peers (9)" in run.err, str(run))
    check(read(f"{home}/config.toml") == before, "a refused set leaves the file alone")

    run = taho(["config", "get", "mesh.min_peer"], home=home, expect=2)
    check('unknown key "mesh.min_peer" (did you mean mesh.min_peers?)' in run.err, str(run))
    run = taho(["config", "set", "mesh.mnds", "true"], home=home, expect=2)
    check("did you mean mesh.mdns?" in run.err, str(run))

    run = taho(["config", "set", "log.level", "debug"], env={"TAHO__LOG__LEVEL": "warn"}, home=home)
    check("note: TAHO__LOG__LEVEL overrides the file" in run.err, str(run))


def scenario_set_lists(home):
    a = f"/ip4/10.0.0.1/tcp/4001/p2p/{peer_id(1)}"
    b = f"/ip6/::1/tcp/4001/p2p/{peer_id(2)}"
    taho(["config", "set", "mesh.bootstrap", a, b], home=home)
    check(taho(["config", "get", "mesh.bootstrap"], home=home).out == f"{a},{b}\n", "list from two arguments")
    check(taho(["config", "get", "mesh.bootstrap", "--json"], home=home).json() == [a, b], "list as JSON")
    taho(["config", "set", "mesh.bootstrap", f"{b},{a}"], home=home)
    check(taho(["config", "get", "mesh.bootstrap", "--json"], home=home).json() == [b, a], "comma-separated list")
    # Bootstrap entries are checked when the daemon starts (bad ones are
    # skipped with a warning); rendezvous entries are checked here.
    run = taho(["config", "set", "mesh.rendezvous", "/ip4/10.0.0.1/tcp/4001"], home=home, expect=2)
    check("must end in /p2p/<peer id>" in run.err, str(run))
    taho(["config", "set", "mesh.bootstrap", ""], home=home)
    check(taho(["config", "get", "mesh.bootstrap", "--json"], home=home).json() == [], "empty list")


def scenario_home_flag(home):
    other = os.path.join(home, "other")
    write(f"{other}/config.toml", "[api]\nlisten = \"127.0.0.1:0\"\n")
    answer = taho(["config", "--json", "--home", other], home=home).json()
    check(answer["config_file"] == f"{other}/config.toml", "--home beats TAHO_HOME")
    check(answer["values"]["api.listen"]["value"] == "127.0.0.1:0", str(answer["values"]["api.listen"]))
    taho(["--home", other, "config", "set", "content.cache_mb", "0"])
    check("cache_mb = 0" in read(f"{other}/config.toml"), "set writes under --home")


def scenario_xdg_paths(home):
    env = {"HOME": f"{home}/me"}
    answer = taho(["config", "--json"], env=env).json()
    check(answer["config_file"] == f"{home}/me/.config/taho/config.toml", answer["config_file"])
    check(answer["data_dir"] == f"{home}/me/.local/share/taho", answer["data_dir"])
    env.update({"XDG_CONFIG_HOME": f"{home}/cfg", "XDG_DATA_HOME": f"{home}/data"})
    answer = taho(["config", "--json"], env=env).json()
    check(answer["config_file"] == f"{home}/cfg/taho/config.toml", answer["config_file"])
    check(answer["data_dir"] == f"{home}/data/taho", answer["data_dir"])
    taho(["config", "set", "mesh.mdns", "false"], env=env)
    check("mdns = false" in read(f"{home}/cfg/taho/config.toml"), "set creates the XDG config file")
    run = taho(["config"], env={}, expect=2)
    check("TAHO_HOME" in run.err, f"no home at all is explained:\n{run}")


def scenario_keys(home):
    keys = taho(["config", "keys", "--json"], home=home).json()
    by_key = {entry["key"]: entry for entry in keys}
    check(by_key["mesh.min_peers"]["default"] == 4 and by_key["mesh.min_peers"]["env"] == "TAHO__MESH__MIN_PEERS",
          str(by_key["mesh.min_peers"]))
    check(all(entry["doc"] for entry in keys), "every key is documented")
    text = taho(["config", "keys"], home=home).out
    check("mesh.heartbeat = \"1s\"" in text and "duration, 10ms..10m" in text, text)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    scenario = globals().get(f"scenario_{sys.argv[2]}")
    if scenario is None:
        print(f"unknown scenario {sys.argv[2]}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="taho-config-") as home:
        try:
            scenario(os.path.realpath(home))
        except Failure as failure:
            print(f"FAIL {sys.argv[2]}: {failure}", file=sys.stderr)
            return 1
    print(f"ok {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
