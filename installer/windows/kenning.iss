; Inno Setup 6.3+ script for Kenning on Windows (x64).
;
; Input: the PyInstaller bundle dist\kenning\ (kenning.exe, kenning-app.exe, _internal\) and the
; icon build\installer\icons\kenning.ico, both made by installer\windows\build-windows.ps1.
; Output: dist\kenning-<version>-windows-x64-setup.exe
;
;   iscc installer\windows\kenning.iss                 (version read from pyproject.toml)
;   iscc /DAppVersion=1.2.3 installer\windows\kenning.iss
;
; Installs per user by default (no administrator rights; %LOCALAPPDATA%\Programs\Kenning), or for
; all users (Program Files) when chosen in the privileges dialog. Start-menu entry; optional
; desktop icon, start at sign-in (tray, HKCU\...\Run) and `kenning` on the PATH. The uninstaller
; asks whether to keep the index and models (%LOCALAPPDATA%\Kenning) - kept by default, and always
; kept in a silent uninstall.

#define AppName "Kenning"
#define Root SourcePath + "\..\.."
#ifndef AppVersion
  ; pyproject.toml's `version = "x.y.z"` under [project], read as an INI value
  #define AppVersion StringChange(ReadIni(Root + "\pyproject.toml", "project", "version", "0.0.0"), '"', "")
#endif
#define AppExe "kenning-app.exe"
#define RunKey "Software\Microsoft\Windows\CurrentVersion\Run"

[Setup]
AppId={{6F0C7A52-3E1B-4C1E-9E55-5B1B0D4E7C21}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Kenning developers
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=kenning-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\installer\icons\kenning.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; the app may be running (tray): let the Restart Manager close it before files are replaced
CloseApplications=yes
RestartApplications=no
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Messages]
FinishedLabel=Setup has finished installing [name] on your computer.%n%nTo search scanned PDFs and photos of text too, install Tesseract OCR (winget install UB-Mannheim.TesseractOCR); Kenning finds it without a restart.

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "startatlogin"; Description: "Start Kenning when I sign in (it keeps the index up to date from the tray)"; GroupDescription: "Background indexing:"
Name: "addtopath"; Description: "Add the kenning command to the PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#Root}\dist\kenning\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade replaces the bundle wholesale: no stale libraries from an older version
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Search your files by meaning"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; start at sign-in, in the tray; the value goes with the uninstaller
Root: HKA; Subkey: "{#RunKey}"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"" --hidden"; Tasks: startatlogin; Flags: uninsdeletevalue
; not chosen (or chosen before, not now): remove an older entry
Root: HKA; Subkey: "{#RunKey}"; ValueType: none; ValueName: "{#AppName}"; Tasks: not startatlogin; Flags: deletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
const
  UserEnvKey = 'Environment';
  MachineEnvKey = 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';

function EnvRoot(): Integer;
begin
  if IsAdminInstallMode() then Result := HKEY_LOCAL_MACHINE else Result := HKEY_CURRENT_USER;
end;

function EnvKey(): String;
begin
  if IsAdminInstallMode() then Result := MachineEnvKey else Result := UserEnvKey;
end;

function PathContains(Paths, Dir: String): Boolean;
begin
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') > 0;
end;

procedure AddToPath(Dir: String);
var
  Paths: String;
begin
  if not RegQueryStringValue(EnvRoot(), EnvKey(), 'Path', Paths) then Paths := '';
  if PathContains(Paths, Dir) then exit;
  if (Paths <> '') and (Copy(Paths, Length(Paths), 1) <> ';') then Paths := Paths + ';';
  RegWriteExpandStringValue(EnvRoot(), EnvKey(), 'Path', Paths + Dir);
end;

procedure RemoveFromPath(Dir: String);
var
  Paths: String;
  P: Integer;
begin
  if not RegQueryStringValue(EnvRoot(), EnvKey(), 'Path', Paths) then exit;
  Paths := ';' + Paths + ';';
  P := Pos(';' + Uppercase(Dir) + ';', Uppercase(Paths));
  if P = 0 then exit;
  Delete(Paths, P, Length(Dir) + 1);
  Paths := Copy(Paths, 2, Length(Paths) - 2);
  RegWriteExpandStringValue(EnvRoot(), EnvKey(), 'Path', Paths);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('addtopath') then
    AddToPath(ExpandConstant('{app}'));
end;

function UserDataDir(): String;
begin
  { platformdirs.user_data_dir("Kenning", appauthor=False): %LOCALAPPDATA%\Kenning }
  Result := ExpandConstant('{localappdata}\Kenning');
end;

procedure StopRunningApp();
var
  Code: Integer;
begin
  { the tray app holds its files open: ask it to quit, then end it (Kenning commits one file at
    a time, so ending it mid-index loses nothing) }
  if Exec(ExpandConstant('{sys}\taskkill.exe'), '/IM {#AppExe} /T', '', SW_HIDE, ewWaitUntilTerminated, Code)
     and (Code = 0) then
    Sleep(3000);
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM {#AppExe} /T', '', SW_HIDE, ewWaitUntilTerminated, Code);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    StopRunningApp();
    RemoveFromPath(ExpandConstant('{app}'));
  end;
  if (CurUninstallStep = usPostUninstall) and DirExists(UserDataDir()) and not UninstallSilent() then
  begin
    if MsgBox('Kenning has been removed.' + #13#10#13#10 +
              'Also delete your Kenning index, settings and models in' + #13#10 + UserDataDir() + '?' + #13#10#13#10 +
              'Choose No to keep them for a later installation. Your own documents are never touched.',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
    begin
      if not DelTree(UserDataDir(), True, True, True) then
        MsgBox('Some files in ' + UserDataDir() + ' could not be deleted; remove the folder by hand.',
               mbInformation, MB_OK);
    end;
  end;
end;
