"""cpu_name and machine_description: the one line that says where a measurement ran."""

from __future__ import annotations

import platform

import torch

from cgalib.utils import machine


def test_the_description_names_the_cpu_threads_and_versions(monkeypatch):
    monkeypatch.setattr(machine, "cpu_name", lambda: "Test CPU @ 1GHz")
    line = machine.machine_description()
    assert line == (
        f"Test CPU @ 1GHz, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )


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
