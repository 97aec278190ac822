"""The search: stage by stage, simplest first (``search``), each stage's structures read out and judged.

It owns the stages: the power law (``power_law``), the lattice stage
(``lattice``), the rational library (``rational``), the trained stages of
LawNets (``trained``) and of FactorNets (``factored``, listed by
``factored_stages``); the screening of wide tables (``screening``) and the
time budget (``budget``).

It may import every other room of ``laws``; only the trained stages import
torch, and only when they run.
"""
