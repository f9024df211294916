#!/bin/sh
# Regenerates tools/testdata: torch2spec's specs of the fixture networks,
# traced from fixtures/acnet.py with the fixtures' checkpoints. The Go test
# tests/torch2spec_test.go runs them against PyTorch's outputs.
set -e
cd "$(dirname "$0")/../fixtures"
while read -r model fixture input; do
	/usr/bin/python3 ../tools/torch2spec.py --model "acnet:$model" --weights "$fixture/model.pth" \
		--input "$input" --name "$fixture" --out "../tools/testdata/$fixture.yaml"
done <<'END'
resnet20 resnet20 3,32,32
cifar_small cifar_small 3,32,32
GroupsNet groups 4,15,15
CropNet crop 3,13,11
MiscNet misc 3,17,12
ModernNet modern 3,12,12
END
