"""Writes TorchScript ResNet-50 and EfficientNet-B0 (torchvision, random weights, classifier
removed so forward returns pooled features) for the GPU throughput table. Usage: DIR"""
import sys

import torch
import torchvision

out = sys.argv[1]
for name in ("resnet50", "efficientnet_b0"):
    model = getattr(torchvision.models, name)(weights=None)
    if name == "resnet50":
        model.fc = torch.nn.Identity()
    else:
        model.classifier = torch.nn.Identity()
    torch.jit.script(model.eval()).save(f"{out}/{name}.pt")
    print(f"{out}/{name}.pt")
