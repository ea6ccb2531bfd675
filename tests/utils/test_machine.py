"""cpu_name and machine_description: the one line that says where a measurement ran."""

from __future__ import annotations

import platform

import torch

from cgalib.utils import machine


def test_the_description_names_the_cpu_threads_and_versions(monkeypatch):
    monkeypatch.setattr(machine, "cpu_name", lambda: "Test CPU @ 1GHz")
    monkeypatch.setattr(machine, "cpu_bf16", lambda: "AVX-512 bf16")
    line = machine.machine_description()
    assert line == (
        f"Test CPU @ 1GHz (AVX-512 bf16), {torch.get_num_threads()} threads, torch "
        f"{torch.__version__}, Python {platform.python_version()}"
    )
    monkeypatch.setattr(machine, "cpu_bf16", lambda: None)
    assert machine.machine_description().startswith("Test CPU @ 1GHz (no native bf16), ")


def test_native_bf16_is_read_from_torch(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert machine.cpu_bf16() == "AVX-512 bf16"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert machine.cpu_bf16() == "AMX"
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert machine.cpu_bf16() is None


def test_the_cpu_model_name_is_read_from_cpuinfo(monkeypatch, tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Example Xeon  \nprocessor\t: 1\n"
                    "model name\t: Example Xeon\n")  # fmt: skip
    monkeypatch.setattr(machine, "Path", lambda _: info)
    assert machine.cpu_name() == "Example Xeon"


def test_without_cpuinfo_the_platform_names_the_cpu(monkeypatch, tmp_path):
    monkeypatch.setattr(machine, "Path", lambda _: tmp_path / "missing")
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    assert machine.cpu_name() == "riscv64"
    monkeypatch.setattr(platform, "machine", lambda: "")
    assert machine.cpu_name() == "unknown CPU"
