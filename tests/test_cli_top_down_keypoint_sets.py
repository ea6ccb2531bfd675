"""The top-down model on a custom keypoint set: built for the set, trained on the 14-joint
synthetic set, its checkpoint carries the set, evaluation and prediction follow it."""

from __future__ import annotations

import json

import pytest
import torch

from cgalib import KeypointSet, Predictor, create_model, create_variant, load_model, save_model
from cgalib.cli import main
from cgalib.data import BODY14_CATEGORY, make_synthetic_coco
from cgalib.registry import build_config

BODY14 = KeypointSet.from_category(BODY14_CATEGORY)


def test_the_builder_takes_k_and_the_flip_map_from_the_set(tmp_path):
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    assert net.keypoint_set == BODY14 and net.num_keypoints == 14
    assert {c.out_channels for c in net.head.convs} == {14}
    assert build_config(net)["kwargs"]["keypoint_set"] == BODY14.to_dict()
    assert create_model("topdown_tnet_d1w16").keypoint_set == KeypointSet.coco()
    save_model(net, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt", flip_test=True).eval()
    assert loaded.keypoint_set == BODY14 and loaded.flip_test
    assert loaded(torch.rand(2, 3, 64, 32)).shape == (2, 14, 3)
    assert create_variant(net, flip_shift=1).keypoint_set == BODY14
    with pytest.raises(ValueError, match="takes no argument 'num_keypoints'"):
        create_model("topdown_tnet_d1w16", keypoint_set=BODY14, num_keypoints=17)


def test_oks_nms_uses_the_sets_sigmas():
    """Two copies of one 14-joint pose: OKS-NMS (with the set's 14 sigmas, not COCO's 17)
    keeps the better one."""
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    predictor = Predictor(net, device="cpu", oks_nms_threshold=0.5)
    assert predictor.keypoint_set == BODY14
    box = [[4.0, 4.0, 36.0, 60.0, 0.9], [4.0, 4.0, 36.0, 60.0, 0.8]]
    people = predictor.predict(torch.zeros(3, 64, 48, dtype=torch.uint8), boxes=box)
    assert len(people) == 1 and len(people[0]["keypoints"]) == 3 * 14
    assert people[0]["box_score"] == pytest.approx(0.9)


@pytest.fixture(scope="module")
def body14_top_down(tmp_path_factory):
    root = tmp_path_factory.mktemp("body14_top_down")
    paths = make_synthetic_coco(root / "data", 4, 2, size=96, min_height=40, keypoints="body14")
    args = ["train", "--model", "topdown_tnet_d1w16", "--data", str(paths["root"]), "--out",
            str(root / "run"), "--epochs", "1", "--batch", "4", "--input-size", "64x32",
            "--device", "cpu", "--workers", "0"]  # fmt: skip
    assert main(args) == 0
    return root, paths


def test_a_14_joint_top_down_model_trains_and_evaluates_without_flags(body14_top_down, capsys):
    root, paths = body14_top_down
    model = load_model(root / "run" / "model.pt")
    assert model.needs_boxes and model.keypoint_set == BODY14
    out = root / "results.json"
    args = ["eval", "--checkpoint", str(root / "run" / "model.pt"), "--data",
            str(paths["root"]), "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "val keypoints, boxes from the ground truth" in capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results and all(len(r["keypoints"]) == 3 * 14 for r in results)


def test_a_coco_top_down_checkpoint_on_body14_data_is_refused(body14_top_down, capsys):
    root, paths = body14_top_down
    ckpt = root / "coco.pt"
    save_model(create_model("topdown_tnet_d1w16", input_size=(64, 32)), ckpt)
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(paths["root"]), "--device", "cpu",
            "--out", str(root / "coco.json")]  # fmt: skip
    assert main(args) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"cgalib: error: checkpoint {ckpt} predicts 17 keypoints of 'person'")
    assert f"but {paths['val_ann']} has 14 keypoints (left_shoulder" in line
    assert not (root / "coco.json").exists()


def test_a_14_joint_top_down_predictor_tracks_and_draws_a_video(tmp_path):
    """predict_video with a Predictor of a 14-joint top-down model: the tracker scores with the
    set's 14 sigmas (COCO's 17 would be refused) and the drawings use its skeleton."""
    pytest.importorskip("av")
    from cgalib.video import load_video_results, predict_video, synthetic_clip

    video = synthetic_clip(num_frames=3, width=64, height=48, num_people=1).write(
        tmp_path / "clip.mp4"
    )
    detector = create_model("cganet_tnet_d1w16", input_size=64, max_detections=2)
    net = create_model("topdown_tnet_d1w16", input_size=(64, 32), keypoint_set=BODY14)
    with torch.no_grad():  # confident untrained models, so the tracker keeps their people
        detector.dense_heads.center.heatmap[-1].bias.fill_(5.0)
        net.head.convs[0].bias.fill_(5.0)
    predictor = Predictor(net, detector=detector, device="cpu")
    path = predict_video(predictor, video, tmp_path / "out", render=True, progress=False)
    results = load_video_results(path)
    assert results["settings"]["input_size"] == [64, 32] and results["complete"]
    people = [p for f in results["frames"] for p in f["people"]]
    assert people and all(len(p["keypoints"]) == 3 * 14 for p in people)
    assert results["annotated_video"] is not None
