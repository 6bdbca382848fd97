"""HTCondor 25 configuration templates (``use CATEGORY : Template``): category -> template -> text.

The template bodies are the configuration statements HTCondor compiles into its param
table (src/condor_utils/param_info.in, the "$CATEGORY.Name" entries; Apache-2.0).  They are
parsed with the normal configuration parser when a ``use`` line names them; ``$(1)``, ``$(1?)``,
``$(0#)``, ``$(2+)`` etc. are template arguments (see metaknobs.expand_meta_args).
"""

# fmt: off
TEMPLATES: dict[str, dict[str, str]] = {
    'FEATURE': {
        'POLICY_EXPR_FRAGMENTS': (
            'PolicyExprFragments=1\n'
            'KeyboardBusy=(KeyboardIdle < $(MINUTE))\n'
            'ConsoleBusy=(ConsoleIdle  < $(MINUTE))\n'
            'KeyboardNotBusy=($(KeyboardBusy) == False)\n'
            'JustCPU=($(CPUBusy) && ($(KeyboardBusy) == False))\n'
            'MachineBusy=($(CPUBusy) || $(KeyboardBusy))\n'
            'NonCondorLoadAvg=(LoadAvg - CondorLoadAvg)\n'
            'CpuIdle=($(NonCondorLoadAvg) <= $(BackgroundLoad))\n'
            'CpuBusy=($(NonCondorLoadAvg) >= $(HighLoad))\n'
            'ActivationTimer=ifThenElse(JobStart =!= UNDEFINED, (time() - JobStart), 0)\n'
            'LastCkpt=(time() - LastPeriodicCheckpoint)\n'
        ),
        'POLICY_HOURS_TO_START': (
            '# Desktops are never idle during the Workday, use 24 hour day, fractional hours\n'
            'WorkdayBeginHour=$(1:8)\n'
            'WorkdayEndHour=$(2:12+5)\n'
            "# don't start jobs with 30 minutes of the start of day\n"
            'WorkdayBeginMinuteStartJobs=($(WorkdayBeginHour))*60 - 29.5\n'
            '# begin evicting jobs 10 minutes before the start of the day\n'
            'WorkdayBeginMinuteStopJobs=($(WorkdayBeginHour))*60 - 9.5\n'
            'WorkdayEndMinute=($(WorkdayEndHour))*60 + 0.5\n'
            'RunJobsHours=ClockMin < $INT(WorkdayBeginMinuteStartJobs) || ClockMin > $INT(WorkdayEndMinute)\n'
            'NoJobsHours=ClockMin > $INT(WorkdayBeginMinuteStopJobs) && ClockMin < $INT(WorkdayEndMinute)\n'
            'if $(3?)\n'
            'WorkweekFirstDay=$(3:1)\n'
            'WorkweekLastDay=$(4:5)\n'
            'IsWeekend=ClockDay < $INT(WorkweekFirstDay) || ClockDay > $INT(WorkWeekLastDay)\n'
            'IsWorkday=ClockDay >= $INT(WorkweekFirstDay) && ClockDay <= $INT(WorkWeekLastDay)\n'
            'RunJobsHours=$(IsWeekend) || $(RunJobsHours)\n'
            'NoJobsHours=$(IsWorkday) && $(NoJobsHours)\n'
            'endif\n'
            'RunJobsHours=($(RunJobsHours))\n'
            'NoJobsHours=($(NoJobsHours))\n'
        ),
        'TESTINGMODE_POLICY_VALUES': (
            'TESTINGMODE_WANT_SUSPEND=False\n'
            'TESTINGMODE_WANT_VACATE=True\n'
            'TESTINGMODE_START=True\n'
            'TESTINGMODE_SUSPEND=False\n'
            'TESTINGMODE_CONTINUE=True\n'
            'TESTINGMODE_PREEMPT=False\n'
            'TESTINGMODE_KILL=False\n'
            'TESTINGMODE_PERIODIC_CHECKPOINT=False\n'
            'TESTINGMODE_PREEMPTION_REQUIREMENTS=False\n'
            'TESTINGMODE_PREEMPTION_RANK=0\n'
            'TESTINGMODE_CLAIM_WORKLIFE=1200\n'
        ),
        'UWCS_DESKTOP_POLICY_VALUES': (
            'if ! defined PolicyExprFragments\n'
            'use FEATURE : POLICY_EXPR_FRAGMENTS\n'
            'endif\n'
            'STARTD_LATCH_EXPRS = $(STARTD_LATCH_EXPRS) CpuBusy\n'
            'CpuBusyTimer=IfThenElse(CpuBusyValue is 1, time() - CpuBusyTime, 0)\n'
            'UWCS_WANT_SUSPEND=( $(SmallJob) || $(KeyboardNotBusy) || $(IsVanilla) ) && ( $(SUSPEND) )\n'
            'UWCS_WANT_VACATE=( $(ActivationTimer) > 10 * $(MINUTE) || $(IsVanilla) )\n'
            'UWCS_START=( (KeyboardIdle > $(StartIdleTime)) && ( $(CPUIdle) || (State != "Unclaimed" && State != "Owner")) )\n'
            'UWCS_SUSPEND=( $(KeyboardBusy) || ( ($(CpuBusyTimer) > 2 * $(MINUTE)) && $(ActivationTimer) > 90 ) )\n'
            'UWCS_CONTINUE=( $(CPUIdle) && ($(ActivityTimer) > 10) && (KeyboardIdle > $(ContinueIdleTime)) )\n'
            'UWCS_PREEMPT=( ((Activity == "Suspended") && ($(ActivityTimer) > $(MaxSuspendTime))) || (SUSPEND && (WANT_SUSPEND == False)) )\n'
            'UWCS_MaxJobRetirementTime=0\n'
            'UWCS_KILL=false\n'
            'UWCS_PERIODIC_CHECKPOINT=$(LastCkpt) > (3 * $(HOUR) + $RANDOM_INTEGER(-30,30,1) * $(MINUTE) )\n'
            'UWCS_NEGOTIATOR_PRE_JOB_RANK=(10000000 * My.Rank) + (1000000 * (RemoteOwner =?= UNDEFINED)) - (100000 * Cpus) - Memory\n'
            'UWCS_NEGOTIATOR_POST_JOB_RANK=(RemoteOwner =?= UNDEFINED) * (ifthenElse(isUndefined(KFlops), 1000, Kflops) - SlotID - 1.0e10*(Offline=?=True))\n'
            'UWCS_PREEMPTION_REQUIREMENTS=((SubmitterGroup =?= RemoteGroup) && ($(StateTimer) > (1 * $(HOUR))) && (RemoteUserPrio > TARGET.SubmitterUserPrio * 1.2)) || (MY.NiceUser == True)\n'
            'UWCS_PREEMPTION_RANK=(RemoteUserPrio * 1000000) - ifThenElse(isUndefined(TotalJobRuntime), 0, TotalJobRuntime)\n'
        ),
        'AssignAccountingGroup': (
            'if ! $(1?)\n'
            'error : use FEATURE : AssignAccountingGroup requires a map_file argument\n'
            'endif\n'
            'use FEATURE : ScheddUsermapFile(AssignAccountingGroup, $(1))\n'
            'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) AssignAccountingGroup\n'
            'JOB_TRANSFORM_AssignAccountingGroup @=end\n'
            'COPY Owner = AcctGroupUser\n'
            'COPY AcctGroup = RequestedAcctGroup\n'
            'EVALSET AcctGroup = usermap("AssignAccountingGroup",AcctGroupUser,AcctGroup)\n'
            'EVALSET AccountingGroup = join(".",AcctGroup,AcctGroupUser)\n'
            '@end\n'
            "# make sure that the user can't qedit these attributes once they have been set.\n"
            'IMMUTABLE_JOB_ATTRS = $(IMMUTABLE_JOB_ATTRS) AcctGroup AcctGroupUser AccountingGroup\n'
            '# optionally check that the user requested a valid group\n'
            'if $(2:True)\n'
            'SUBMIT_REQUIREMENT_NAMES = $(SUBMIT_REQUIREMENT_NAMES) CheckRequestedGroup\n'
            'SUBMIT_REQUIREMENT_CheckRequestedGroup = RequestedAcctGroup is undefined || RequestedAcctGroup == AcctGroup\n'
            'SUBMIT_REQUIREMENT_CheckRequestedGroup_REASON = strcat("Permission denied setting accounting_group to ", RequestedAcctGroup)\n'
            'endif\n'
            '# require that the user mapped into an accounting group\n'
            'SUBMIT_REQUIREMENT_NAMES = $(SUBMIT_REQUIREMENT_NAMES) AssignAccountingGroup\n'
            'SUBMIT_REQUIREMENT_AssignAccountingGroup = AcctGroup isnt undefined && AccountingGroup isnt undefined\n'
            'SUBMIT_REQUIREMENT_AssignAccountingGroup_REASON = strcat("Submit requirement AssignAccountingGroup not met - Could not map \'", Owner, "\' to an accounting group ", RequestedAcctGroup)\n'
        ),
        'AssignProjectName': (
            'if ! $(1?)\n'
            'error : use FEATURE : AssignProjectName requires a map_name argument\n'
            'endif\n'
            'use FEATURE : SetJobAttrFromUsermap(ProjectName, Owner, $(1+))\n'
        ),
        'SetJobAttrFromUsermap': (
            'if ! $(3?)\n'
            'error : use FEATURE : SetJobAttrFromUsermap requires at least 3 arguments: dest_attr, src_attr, map_name [,map_file]\n'
            'endif\n'
            'if $(4?)\n'
            'use FEATURE : ScheddUsermapFile($(3), $(4))\n'
            'endif\n'
            'JOB_TRANSFORM_NAMES += Set$(1)\n'
            'JOB_TRANSFORM_Set$(1) = EVALSET $(1) usermap("$(3)",$(2),$(1))\n'
            'SUBMIT_REQUIREMENT_NAMES += Require$(1)\n'
            'SUBMIT_REQUIREMENT_Require$(1) = $(1) isnt undefined\n'
            'SUBMIT_REQUIREMENT_Require$(1)_REASON = strcat("Submit requirement Require$(1) not met - Could not map \'", $(2)?:"undefined", "\' to a $(1)")\n'
        ),
        'ScheddUsermapFile': (
            'if ! $(2?)\n'
            'error : use FEATURE : ScheddUsermapFile requires 2 arguments: map_name, map_file\n'
            'endif\n'
            'SCHEDD_CLASSAD_USER_MAP_NAMES = $(SCHEDD_CLASSAD_USER_MAP_NAMES) $(1)\n'
            'CLASSAD_USER_MAPFILE_$(1) = $(2)\n'
        ),
        'REMOTE_RUNTIME_CONFIG': (
            'ENABLE_RUNTIME_CONFIG=True\n'
            'ALLOW_CONFIG=$(ALLOW_ADMINISTRATOR)\n'
            '# the value of this attribute defines which parameters can be set remotely\n'
            'if $(0#)\n'
            'SETTABLE_ATTRS_CONFIG=$(SETTABLE_ATTRS_CONFIG) $(0)\n'
            'endif\n'
        ),
        'REMOTE_CONFIG': (
            'ENABLE_PERSISTENT_CONFIG=True\n'
            'PERSISTENT_CONFIG_DIR=$(SPOOL)\n'
            'use FEATURE : REMOTE_RUNTIME_CONFIG($(0))\n'
        ),
        'GPUs': (
            'MACHINE_RESOURCE_INVENTORY_GPUs=$(LIBEXEC)/condor_gpu_discovery $(1) -properties $(GPU_DISCOVERY_EXTRA)\n'
            'ENVIRONMENT_FOR_AssignedGPUs=GPU_DEVICE_ORDINAL=/(CUDA|OCL)//  CUDA_VISIBLE_DEVICES=/CUDA//\n'
            'ENVIRONMENT_VALUE_FOR_UnAssignedGPUs=10000\n'
            'use feature : GPUsMonitor\n'
        ),
        'Monitor': (
            'if ! $(5?)\n'
            'error: use feature : monitor requires five or more arguments\n'
            'endif\n'
            'STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) $(1)_MONITOR\n'
            'STARTD_CRON_$(1)_MONITOR_MODE = $(2)\n'
            'STARTD_CRON_$(1)_MONITOR_PERIOD = $(3)\n'
            'STARTD_CRON_$(1)_MONITOR_EXECUTABLE = $(4)\n'
            'STARTD_CRON_$(1)_MONITOR_METRICS = $(5+)\n'
        ),
        'GPUsMonitor': (
            'use feature : Monitor( GPUs, WaitForExit, 300, $(GPU_MONITOR), SUM:GPUs, PEAK:GPUsMemory )\n'
            'STARTD_CRON_GPUs_MONITOR_CONDITION = TotalGPUs > 0 && OpSys =!= "WINDOWS"\n'
            'STARTD_JOB_ATTRS = $(STARTD_JOB_ATTRS) GPUsUsage GPUsMemoryUsage\n'
        ),
        'PelicanCache': (
            '# NOTE: This feature is still very experimental and could have bugs and unexpected behavior\n'
            'PELICANCACHE=/usr/bin/pelican\n'
            'DAEMON_LIST=$(DAEMON_LIST) PELICANCACHE\n'
            'PELICANCACHE_LOG=$(LOG)/PelicanCacheLog\n'
            'PELICANCACHE_SIZE=$(1:256GB)\n'
            'PELICANCACHE_RUNLOCATION=$(2:$(LOCAL_DIR)/localcache)\n'
            'PELICANCACHE_FEDERATION=$(3:osg-htc.org)\n'
            'PELICANCACHE_HIGHWATERMARKPERCENTAGE=95\n'
            'PELICANCACHE_LOWWATERMARKPERCENTAGE=85\n'
            '# pass some args to the PELICANCACHE daemon in the environment and some in the args\n'
            'PELICANCACHE_ARGS=serve -d --module localcache -L $(PELICANCACHE_LOG) -f $(PELICANCACHE_FEDERATION)\n'
            'PELICANCACHE_ENVIRONMENT @=end\n'
            'PELICAN_SERVER_ENABLEUI=false\n'
            'PELICAN_LOCALCACHE_SIZE=$(PELICANCACHE_SIZE)\n'
            'PELICAN_LOCALCACHE_RUNLOCATION=$(PELICANCACHE_RUNLOCATION)\n'
            'PELICAN_LOCALCACHE_HIGHWATERMARKPERCENTAGE=$(PELICANCACHE_HIGHWATERMARKPERCENTAGE)\n'
            'PELICAN_LOCALCACHE_LOWWATERMARKPERCENTAGE=$(PELICANCACHE_LOWWATERMARKPERCENTAGE)\n'
            '@end\n'
            '# push an environment variable into the STARTD, which the STARTER and the transfer plugins will inherit\n'
            '# we use the leading delimiter syntax here, with ; as the delimiter on all platforms\n'
            'STARTD_ENVIRONMENT=;NEAREST_CACHE=unix:/$(PELICANCACHE_RUNLOCATION)/cache.sock;$(STARTD_ENVIRONMENT)\n'
        ),
        'PartitionableSlot': (
            'NUM_SLOTS_TYPE_$(1:1)=1\n'
            'SLOT_TYPE_$(1:1)_PARTITIONABLE=true\n'
            'SLOT_TYPE_$(1:1)=$(2+:100%)\n'
        ),
        'StaticSlots': (
            'NUM_SLOTS_TYPE_$(1:1)=$(2:$(NUM_CPUS))\n'
            'SLOT_TYPE_$(1:1)_PARTITIONABLE=false\n'
            'SLOT_TYPE_$(1:1)=$(3+:1/$(NUM_SLOTS_TYPE_$(1:1)))\n'
            'SLOT_TYPE_$(1:1)=$(3+)\n'
        ),
        'OneShotCronHook': (
            'if ! $(3?)\n'
            'error : use FEATURE : OneShotCronHook requires at least 3 arguments: STARTD_CRON | SCHEDD_CRON, tag, hook_exe [,hook_args]\n'
            'endif\n'
            '$(1)_JOBLIST=$($(1)_JOBLIST) $(2)\n'
            '$(1)_$(2)_MODE=OneShot\n'
            '$(1)_$(2)_KILL=true\n'
            '$(1)_$(2)_RECONFIG_RERUN=true\n'
            '$(1)_$(2)_EXECUTABLE=$(3)\n'
            'if $(4?)\n'
            '$(1)_$(2)_ARGS=$(4)\n'
            'endif\n'
        ),
        'PeriodicCronHook': (
            'if ! $(4?)\n'
            'error : use FEATURE : PeriodicCronHook requires at least 4 arguments: STARTD_CRON | SCHEDD_CRON, tag, period, hook_exe [,hook_args]\n'
            'endif\n'
            '$(1)_JOBLIST=$($(1)_JOBLIST) $(2)\n'
            '$(1)_$(2)_MODE=Periodic\n'
            '$(1)_$(2)_PERIOD=$(3)\n'
            '$(1)_$(2)_EXECUTABLE=$(4)\n'
            'if $(5?)\n'
            '$(1)_$(2)_ARGS=$(5)\n'
            'endif\n'
        ),
        'ContinuousCronHook': (
            'if ! $(3?)\n'
            'error : use FEATURE : ContinuousCronHook requires at least 3 arguments: STARTD_CRON | SCHEDD_CRON, tag, hook_exe [,hook_args]\n'
            'endif\n'
            '$(1)_JOBLIST=$($(1)_JOBLIST) $(2)\n'
            '$(1)_$(2)_MODE=WaitForExit\n'
            '$(1)_$(2)_PERIOD=0\n'
            '$(1)_$(2)_EXECUTABLE=$(3)\n'
            'if $(4?)\n'
            '$(1)_$(2)_ARGS=$(4)\n'
            'endif\n'
        ),
        'StartdCronPeriodic': (
            'use FEATURE : PeriodicCronHook(STARTD_CRON, $(0))\n'
        ),
        'ScheddCronPeriodic': (
            'use FEATURE : PeriodicCronHook(SCHEDD_CRON, $(0))\n'
        ),
        'StartdCronOneShot': (
            'use FEATURE : OneShotCronHook(STARTD_CRON, $(0))\n'
        ),
        'ScheddCronOneShot': (
            'use FEATURE : OneShotCronHook(SCHEDD_CRON, $(0))\n'
        ),
        'StartdCronContinuous': (
            'use FEATURE : ContinuousCronHook(STARTD_CRON, $(0))\n'
        ),
        'ScheddCronContinuous': (
            'use FEATURE : ContinuousCronHook(SCHEDD_CRON, $(0))\n'
        ),
        'ChildCollector': (
            'COLLECTOR$(1)=$(COLLECTOR)\n'
            'if $(2?)\n'
            'COLLECTOR$(1)_ARGS= -p $(2)\n'
            'else\n'
            'COLLECTOR$(1)_ARGS= -sock collector$(1)\n'
            'endif\n'
            'COLLECTOR$(1).COLLECTOR_NAME=Collector$(1)\n'
            'COLLECTOR$(1).CONDOR_VIEW_HOST=$(TOP_COLLECTOR_HOST)\n'
            'COLLECTOR$(1).CCB_RECONNECT_FILE=$(SPOOL)/Collector$(1).ccb_reconnect\n'
            'DAEMON_LIST=$(DAEMON_LIST) COLLECTOR$(1)\n'
            '# change TOP_COLLECTOR_HOST to point all of the child collectors at a different top-level collector\n'
            'TOP_COLLECTOR_HOST=$(COLLECTOR_HOST)\n'
        ),
        'LIBRARIAN': (
            'DAEMON_LIST=$(DAEMON_LIST) LIBRARIAN\n'
            'USING_LIBRARIAN=True\n'
            'if $(1?)\n'
            'LIBRARIAN_MAX_DATABASE_SIZE=$(1)\n'
            'endif\n'
            'if $(2?)\n'
            'LIBRARIAN_DATABASE=$(2)\n'
            'endif\n'
        ),
        'KRB': (
            'SEC_CREDENTIAL_DIRECTORY_KRB=/var/lib/condor/krb_credentials\n'
            'DAEMON_LIST=$(DAEMON_LIST) CREDMON_KRB\n'
            'SEC_CREDENTIAL_PRODUCER=$(LIBEXEC)/cred_producer_krb\n'
            'SEC_CREDENTIAL_MONITOR_KRB_LOG=$(LOG)/CredMonKrbLog\n'
            'AUTO_INCLUDE_CREDD_IN_DAEMON_LIST=True\n'
            'USE_KEYRING_SESSIONS=True\n'
        ),
        'OAUTH': (
            'SEC_CREDENTIAL_DIRECTORY_OAUTH=/var/lib/condor/oauth_credentials\n'
            'CREDMON_OAUTH_LOG=$(LOG)/CredMonOAuthLog\n'
            'DAEMON_LIST=$(DAEMON_LIST) CREDMON_OAUTH\n'
            'AUTO_INCLUDE_CREDD_IN_DAEMON_LIST=True\n'
            'TRUST_CREDENTIAL_DIRECTORY=True\n'
        ),
        'ADSTASH': (
            'ADSTASH_SCHEDD_HISTORY=True\n'
            'DAEMON_LIST=$(DAEMON_LIST) ADSTASH\n'
        ),
        'CommonCloudAttributesGoogle': (
            'use FEATURE : StartdCronOneShot(cloud, $(LIBEXEC)/common-cloud-attributes-google.py, $(0))\n'
            'STARTD_CRON_cloud_PREFIX = Cloud\n'
        ),
        'JobsHaveInstanceIDs': (
            'SYSTEM_JOB_MACHINE_ATTRS = $(SYSTEM_JOB_MACHINE_ATTRS) CloudInstanceID\n'
        ),
        'CommonCloudAttributesAWS': (
            'use FEATURE : StartdCronOneShot(cloud, $(LIBEXEC)/common-cloud-attributes-aws.py, $(0))\n'
            'STARTD_CRON_cloud_PREFIX = Cloud\n'
        ),
        'HPC_ANNEX': (
            '# Let the command-line tool know that things are configured.\n'
            'HPC_ANNEX_ENABLED = true\n'
            '## The annex EPs need a specific port number.\n'
            '# This is the default value from `use role:personal`.\n'
            'ispersonal = "127.0.0.1:0"=="$(COLLECTOR_HOST)"\n'
            'if $INT(ispersonal)\n'
            'COLLECTOR_HOST = $(FULL_HOSTNAME):$(COLLECTOR_PORT)\n'
            'endif\n'
            '# This is the default value from the `make-personal-condor` script.\n'
            'ispersonal = "$(FULL_HOSTNAME):0"=="$(COLLECTOR_HOST)"\n'
            'if $INT(ispersonal)\n'
            'COLLECTOR_HOST = $(FULL_HOSTNAME):$(COLLECTOR_PORT)\n'
            'endif\n'
            '# Create an "AP collector".  At some point, we\'d like to make such a\n'
            '# thing first-class.  In the short term, adding a command-line flag\n'
            '# to the collector to set its subsystem would be an improvement.\n'
            'AP_COLLECTOR = $(COLLECTOR)\n'
            'AP_COLLECTOR.COLLECTOR_LOG = $(LOG)/AP_Collector.log\n'
            'AP_COLLECTOR.CCB_RECONNECT_FILE = $(SPOOL)/AP_Collector.ccb_reconnect\n'
            'DAEMON_LIST = $(DAEMON_LIST) AP_COLLECTOR\n'
            "# Giving the AP collector a stable shared port ID means we don't\n"
            '# have to worry about updating annex pilots because of a restart.\n'
            'AP_COLLECTOR_ARGS = -f -local-name AP_COLLECTOR -sock ap_collector\n'
            "# For now, don't worry about quoting the Sinful brackets.\n"
            'ANNEX_COLLECTOR = $(TCP_FORWARDING_HOST:$(FULL_HOSTNAME)):$(SHARED_PORT_PORT)?sock=ap_collector\n'
            '# Any user who can submit jobs can use the AP collector for annex.\n'
            'AP_COLLECTOR.ALLOW_ADVERTISE_STARTD = $(ALLOW_ADVERTISE_STARTD) $(ALLOW_WRITE)\n'
            'AP_COLLECTOR.ALLOW_ADVERTISE_MASTER = $(ALLOW_ADVERTISE_MASTER) $(ALLOW_WRITE)\n'
            '# Until we can give the schedd a stable shared port ID, the annex\n'
            '# pilot needs to be able to look the schedd up in the AP collector.\n'
            'if defined COLLECTOR_HOST\n'
            'SCHEDD.COLLECTOR_HOST = $(COLLECTOR_HOST) $(ANNEX_COLLECTOR)\n'
            'else\n'
            'SCHEDD.COLLECTOR_HOST = $(ANNEX_COLLECTOR)\n'
            'endif\n'
            '# The AP collector creates the "AP" signing key.\n'
            'ANNEX_TOKEN_KEY_NAME = $(SEC_TOKEN_AP_SIGNING_KEY_NAME)\n'
            'ANNEX_TOKEN_DOMAIN = $(UID_DOMAIN)\n'
            '# We assume that the token directories (passwords.d and tokens.d) are\n'
            '# already set.  HTCondor should create and populate the appropriately,\n'
            '# if so.\n'
            'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) AssignAnnex\n'
            'JOB_TRANSFORM_AssignAnnex @=end\n'
            'REQUIREMENTS TargetAnnexName =!= undefined\n'
            'my_identity = "$(MY.Owner)@$(ANNEX_TOKEN_DOMAIN)"\n'
            'addl_reqs = ifThenElse(TARGET.AuthenticatedIdentity is undefined, true, $(my_identity) == TARGET.AuthenticatedIdentity) && (MY.TargetAnnexName == TARGET.AnnexName)\n'
            'if defined MY.JobMachineAttrs\n'
            'SET JobMachineAttrs "$(MY.JobMachineAttrs),AnnexName"\n'
            'else\n'
            'SET JobMachineAttrs "AnnexName"\n'
            'endif\n'
            'if defined MY.Requirements\n'
            'SET Requirements $(addl_reqs) && ($(MY.Requirements))\n'
            'else\n'
            'SET Requirements $(addl_reqs)\n'
            'endif\n'
            '@end\n'
            '# The schedd will not try to activate a directly-connected claim\n'
            '# with a job whose owner is not the authenticated identity of the\n'
            '# directly-connected EP.  This limits the damage that can be done\n'
            "# by a misconfigured EP to only running the annex owner's other\n"
            '# jobs, which I think no long justifies tranforming all other jobs.\n'
            'if $(ANNEX_JOBS_EXCLUSIVELY:FALSE)\n'
            'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) AnnexJobsExclusively\n'
            'JOB_TRANSFORM_AnnexJobsExclusively @=end\n'
            'REQUIREMENTS TargetAnnexName =?= undefined\n'
            'addl_reqs = ifThenElse(TARGET.AuthenticatedIdentity is undefined, true, regexp("^condor(_pool)?@.*$", TARGET.AuthenticatedIdentity))\n'
            'if defined MY.Requirements\n'
            'SET Requirements $(addl_reqs) && ($(MY.Requirements))\n'
            'else\n'
            'SET Requirements $(addl_reqs)\n'
            'endif\n'
            '@end\n'
            'endif\n'
        ),
        'PelicanRetryPolicy': (
            '# These are the default values; they can be overridden later.\n'
            'PelicanRetry_MaxRetries = 4\n'
            '# Delay at least 300 seconds ...\n'
            'PelicanRetry_MinimumDelay = 300\n'
            '# ... and up to 300 more seconds, before retrying.\n'
            'PelicanRetry_RandomDelay = 300\n'
            '# pelican plugin uses 11 for retriable failures (11 << 8 == 2816)\n'
            'pelican_error_subcode_retriable = 2816\n'
            "# pelican plugin uses 5 for a stopped transfer (we're considering it retryable right now (OSPOOL-74)) (5 << 8 == 1280)\n"
            'pelican_error_subcode_stopped = 1280\n'
            'PelicanRetryCondition = ((VacateReasonCode == 12 || VacateReasonCode == 13) && ((VacateReasonSubCode == $(pelican_error_subcode_retriable)) || (VacateReasonSubCode == $(pelican_error_subcode_stopped)))) ?: false\n'
            'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) PelicanRetry\n'
            'JOB_TRANSFORM_PelicanRetry @=jt\n'
            'REQUIREMENTS (stringListIMember("pelican",WantTransferPluginMethods) || stringListIMember("osdf",WantTransferPluginMethods) || stringListIMember("stash",WantTransferPluginMethods)) && isUndefined(PelicanRetryEnabled)\n'
            'EVALMACRO retry_delay = $(PelicanRetry_MinimumDelay) + random($(PelicanRetry_RandomDelay))\n'
            'SET PelicanRetryEnabled true\n'
            'SET PelicanRetryDelay $(retry_delay)\n'
            '@jt\n'
            'SYSTEM_ON_VACATE_COOL_DOWN = ((PelicanRetryEnabled?:false) && $(PelicanRetryCondition) && ((NumJobCoolDowns?:0) < $(PelicanRetry_MaxRetries)) ? PelicanRetryDelay : ($(SYSTEM_ON_VACATE_COOL_DOWN:0)))\n'
        ),
        'GANGLIA': (
            'DAEMON_LIST=$(DAEMON_LIST) GANGLIAD\n'
        ),
        'DefaultCheckpointDestination': (
            'if ! defined DEFAULT_CHECKPOINT_DESTINATION\n'
            'if defined DEFAULT_CHECKPOINT_DESTINATION_PREFIX\n'
            'DEFAULT_CHECKPOINT_DESTINATION = "$(DEFAULT_CHECKPOINT_DESTINATION_PREFIX)/$(MY.Owner)"\n'
            'else\n'
            'warning: You must set DEFAULT_CHECKPOINT_DESTINATION_PREFIX or DEFAULT_CHECKPOINT_DESTINATION to use feature:DefaultCheckpointDestination.\n'
            'endif\n'
            'endif\n'
            'if defined DEFAULT_CHECKPOINT_DESTINATION\n'
            'EXTENDED_SUBMIT_COMMANDS @=end\n'
            'checkpoint_storage = "\'default\' or \'spool\' or a checkpoint_destination"\n'
            '$(EXTENDED_SUBMIT_COMMANDS)\n'
            '@end\n'
            'JOB_TRANSFORM_CheckpointStorage @=end\n'
            'REQUIREMENTS (MY.CheckpointDestination =?= undefined) && (MY.SuccessCheckpointExitCode =!= undefined)\n'
            'ShouldSetCheckpointDestination = TRUE\n'
            'SetCheckpointDestination = $(DEFAULT_CHECKPOINT_DESTINATION)\n'
            'if defined MY.checkpoint_storage\n'
            'EVALMACRO IsSpool (checkpoint_storage == "spool")\n'
            'EVALMACRO IsDefault (checkpoint_storage == "default")\n'
            'if $(IsSpool)\n'
            'ShouldSetCheckpointDestination = FALSE\n'
            'elif ! $(IsDefault)\n'
            'SetCheckpointDestination = checkpoint_storage\n'
            'endif\n'
            'endif\n'
            'if $(ShouldSetCheckpointDestination)\n'
            'EVALSET CheckpointDestination $(SetCheckpointDestination)\n'
            'endif\n'
            '@end\n'
            '# This should almost certainly come before the validity check.\n'
            'JOB_TRANSFORM_NAMES = CheckpointStorage $(JOB_TRANSFORM_NAMES)\n'
            'endif\n'
        ),
    },
    'POLICY': {
        'DESKTOP': (
            'if ! defined PolicyExprFragments\n'
            'use FEATURE : POLICY_EXPR_FRAGMENTS\n'
            'endif\n'
            'STARTD_LATCH_EXPRS = $(STARTD_LATCH_EXPRS) CpuBusy\n'
            'CpuBusyTimer=IfThenElse(CpuBusyValue is 1, time() - CpuBusyTime, 0)\n'
            'WANT_SUSPEND=($(SmallJob) || $(KeyboardNotBusy) || $(IsVanilla) ) && ( $(SUSPEND))\n'
            'WANT_VACATE=$(ActivationTimer) > 600 || $(IsVanilla)\n'
            'SUSPEND=($(KeyboardBusy) || ( ($(CpuBusyTimer) > 120) && $(ActivationTimer) > 90))\n'
            'CONTINUE=($(CPUIdle) && ($(ActivityTimer) > 10) && (KeyboardIdle > $(ContinueIdleTime)))\n'
            'PREEMPT=(((Activity == "Suspended") && ($(ActivityTimer) > $(MaxSuspendTime))) || (SUSPEND && (WANT_SUSPEND == False)))\n'
            'START=((KeyboardIdle > $(StartIdleTime)) && ( $(CPUIdle) || (State != "Unclaimed" && State != "Owner")) )\n'
            'KILL=False\n'
            'MaxJobRetirementTime=0\n'
            'CLAIM_WORKLIFE=\n'
            'SLOTS_CONNECTED_TO_KEYBOARD=1000000\n'
            'SLOTS_CONNECTED_TO_CONSOLE=1000000\n'
            'IS_OWNER=(START =?= False)\n'
        ),
        'DESKTOP_IDLE': (
            'if $(1?)\n'
            'use FEATURE : POLICY_HOURS_TO_START($(1+))\n'
            'endif\n'
            'NonCondorLoadAvg=(LoadAvg - CondorLoadAvg)\n'
            'CpuBusy=($(NonCondorLoadAvg) >= $(HighLoad))\n'
            'CpuIdle=($(NonCondorLoadAvg) <= $(BackgroundLoad))\n'
            'STARTD_LATCH_EXPRS = $(STARTD_LATCH_EXPRS) CpuBusy\n'
            '# the CpuBusy LATCH_EXPR produces CpuBusyValue=0 or 1, CpuBusyTime is the time that CpuBusyValue changed\n'
            'CpuBusyTimer=(CpuBusyValue * (time() - CpuBusyTime))\n'
            '# preempt on Keyboard activity, CpuBusy and optionally hours of day and/or day of week\n'
            'PreemptKeyboardIdleTime=60\n'
            'PreemptCpuBusyTime=120\n'
            'PREEMPT=(KeyboardIdle < $(PreemptKeyboardIdleTime)) || ($(CpuBusyTimer) > $(PreemptCpuBusyTime))\n'
            'if defined NoJobsHours\n'
            'PREEMPT = ($(PREEMPT)) && ($(NoJobsHours))\n'
            'endif\n'
            '# start on KeyboardIdle, CpuIdle and optionally hours of day and/or day of week\n'
            'START=(KeyboardIdle > $(StartIdleTime)) && $(CPUIdle)\n'
            'if defined RunJobsHours\n'
            'START = ($(START)) || ($(RunJobsHours))\n'
            'endif\n'
            '# boilerplate for evict but not suspend\n'
            'WANT_SUSPEND=False\n'
            'WANT_VACATE=True\n'
            'SUSPEND=False\n'
            'CONTINUE=True\n'
            'KILL=False\n'
            'MaxJobRetirementTime=0\n'
            'CLAIM_WORKLIFE=\n'
            'SLOTS_CONNECTED_TO_KEYBOARD=1000000\n'
            'SLOTS_CONNECTED_TO_CONSOLE=1000000\n'
            'IS_OWNER=(START =?= False)\n'
        ),
        'DESKTOP_HOURS': (
            'use FEATURE : POLICY_HOURS_TO_START($(1+))\n'
            '# set CpuBusy latch and NonCondorLoadAvg in case admin wants to use them\n'
            'NonCondorLoadAvg=(LoadAvg - CondorLoadAvg)\n'
            'CpuBusy=($(NonCondorLoadAvg) >= $(HighLoad))\n'
            'STARTD_LATCH_EXPRS = $(STARTD_LATCH_EXPRS) CpuBusy\n'
            '# the CpuBusy LATCH_EXPR produces CpuBusyValue=0 or 1, CpuBusyTime is the time that CpuBusyValue changed\n'
            'CpuBusyTimer=(CpuBusyValue * (time() - CpuBusyTime))\n'
            'PREEMPT = $(NoJobsHours)\n'
            'START = $(RunJobsHours)\n'
            '# boilerplate for evict but not suspend\n'
            'WANT_SUSPEND=False\n'
            'WANT_VACATE=True\n'
            'SUSPEND=False\n'
            'CONTINUE=True\n'
            'KILL=False\n'
            'MaxJobRetirementTime=0\n'
            'CLAIM_WORKLIFE=\n'
            'SLOTS_CONNECTED_TO_KEYBOARD=1000000\n'
            'SLOTS_CONNECTED_TO_CONSOLE=1000000\n'
            'IS_OWNER=(START =?= False)\n'
        ),
        'ALWAYS_RUN_JOBS': (
            'WANT_SUSPEND=False\n'
            'WANT_VACATE=True\n'
            'SUSPEND=False\n'
            'CONTINUE=True\n'
            'PREEMPT=False\n'
            'START=True\n'
            'KILL=False\n'
            'PREEMPTION_REQUIREMENTS=False\n'
            'NEGOTIATOR_CONSIDER_PREEMPTION=False\n'
            'MaxJobRetirementTime=2147483647\n'
            'CLAIM_WORKLIFE=1200\n'
        ),
        'UWCS_DESKTOP': (
            'use FEATURE : UWCS_DESKTOP_POLICY_VALUES\n'
            'WANT_SUSPEND=$(UWCS_WANT_SUSPEND)\n'
            'WANT_VACATE=$(UWCS_WANT_VACATE)\n'
            'SUSPEND=$(UWCS_SUSPEND)\n'
            'CONTINUE=$(UWCS_CONTINUE)\n'
            'PREEMPT=$(UWCS_PREEMPT)\n'
            'START=$(UWCS_START)\n'
            'KILL=$(UWCS_KILL)\n'
            'PERIODIC_CHECKPOINT=$(UWCS_PERIODIC_CHECKPOINT)\n'
            'PREEMPTION_REQUIREMENTS=$(UWCS_PREEMPTION_REQUIREMENTS)\n'
            'PREEMPTION_RANK=$(UWCS_PREEMPTION_RANK)\n'
            'NEGOTIATOR_PRE_JOB_RANK=$(UWCS_NEGOTIATOR_PRE_JOB_RANK)\n'
            'NEGOTIATOR_POST_JOB_RANK=$(UWCS_NEGOTIATOR_POST_JOB_RANK)\n'
            'MaxJobRetirementTime=$(UWCS_MaxJobRetirementTime)\n'
            'CLAIM_WORKLIFE=$(UWCS_CLAIM_WORKLIFE)\n'
            'SLOTS_CONNECTED_TO_KEYBOARD=1024*1024\n'
            'IS_OWNER=(START =?= False)\n'
        ),
        'LIMIT_JOB_RUNTIMES': (
            'MAX_JOB_RUNTIME=$(1:24*3600)\n'
            'MaxJobRetirementTime=$(MAX_JOB_RUNTIME)+120\n'
            'PREEMPT=(Activity == "Busy") && ((time() - EnteredCurrentActivity) > $(MAX_JOB_RUNTIME))\n'
        ),
        'PREEMPT_IF_RUNTIME_EXCEEDS': (
            'MAX_JOB_RUNTIME = $(1:24*3600)\n'
            'PREEMPT_RUNTIME_EXCEEDS = (JobState == "Running") && ((time() - JobCurrentStartDate) > $(MAX_JOB_RUNTIME))\n'
            'use policy : PREEMPT_IF( PREEMPT_RUNTIME_EXCEEDS )\n'
        ),
        'HOLD_IF_RUNTIME_EXCEEDS': (
            'MAX_JOB_RUNTIME = $(1:24*3600)\n'
            'HOLD_REASON_RUNTIME_EXCEEDS = runtime exceeded maximum ($(MAX_JOB_RUNTIME) seconds)\n'
            'HOLD_RUNTIME_EXCEEDS = (JobState == "Running") && ((time() - JobCurrentStartDate) > $(MAX_JOB_RUNTIME))\n'
            'use policy : WANT_HOLD_IF( HOLD_RUNTIME_EXCEEDS, $(HOLD_SUBCODE_RUNTIME_EXCEEDS:103), $(HOLD_REASON_RUNTIME_EXCEEDS) )\n'
        ),
        'STARTD_PUBLISH_CpusUsage': (
            '#\n'
            '# Publish the number of CPU cores being used by the job into\n'
            '# to slot ad as attribute "CpusUsage". This value will\n'
            '# be the average number of cores used by the job over the\n'
            '# past minute, sampling every 5 seconds\n'
            '#\n'
            'CpusUsage = ifthenelse(TotalLoadAvg > 0.0 && Activity!="Idle", CondorLoadAvg/TotalLoadAvg*MIN({TotalLoadAvg, $(DETECTED_CORES)}), 0)\n'
            'STARTD_ATTRS = $(STARTD_ATTRS) CpusUsage\n'
        ),
        'PREEMPT_IF_CPUS_EXCEEDED': (
            'use POLICY : STARTD_PUBLISH_CpusUsage\n'
            '#\n'
            '# If the startd sees the number of CPU cores used by the job exceed the\n'
            '# number of cores in the slot by more than 0.8, preempt the job\n'
            '# immediately ignoring any retirement time.\n'
            '#\n'
            'CPU_EXCEEDED = (CpusUsage > Cpus + 0.8)\n'
            'use POLICY : PREEMPT_IF(CPU_EXCEEDED)\n'
        ),
        'HOLD_IF_CPUS_EXCEEDED': (
            'use POLICY : STARTD_PUBLISH_CpusUsage\n'
            '#\n'
            '# If the startd sees the number of CPU cores used by the job exceed the\n'
            '# number of cores in the slot by more than 0.8, preempt the job\n'
            '# immediately ignoring any retirement time.\n'
            '#\n'
            'CPU_EXCEEDED = (CpusUsage > Cpus + 0.8)\n'
            'HOLD_REASON_CPU_EXCEEDED = CPU usage exceeded request_cpus\n'
            'use POLICY : WANT_HOLD_IF( CPU_EXCEEDED, $(HOLD_SUBCODE_CPU_EXCEEDED:101), $(HOLD_REASON_CPU_EXCEEDED) )\n'
        ),
        'PREEMPT_IF_DISK_EXCEEDED': (
            '#\n'
            '# If the startd sees the disk usage of the job exceed the\n'
            '# disk in the slot, preempt the job immediately ignoring\n'
            "# any retirement time.  VM universe jobs can't go over their\n"
            '# disk allocations, so we ignore them.\n'
            '#\n'
            'DISK_EXCEEDED = (JobUniverse != 13 && DiskUsage =!= UNDEFINED && DiskUsage > Disk)\n'
            'use POLICY : PREEMPT_IF(DISK_EXCEEDED)\n'
        ),
        'HOLD_IF_DISK_EXCEEDED': (
            '#\n'
            '# If the startd preempted a job because disk usage exceeded\n'
            '# the amount of memory in the slot, put the job on hold.  VM\n'
            "# universe jobs can't go over their disk allocations, so\n"
            '# we ignore them.\n'
            '#\n'
            'DISK_EXCEEDED = (JobUniverse != 13 && DiskUsage =!= UNDEFINED && DiskUsage > Disk)\n'
            'HOLD_REASON_DISK_EXCEEDED = disk usage exceeded allocated disk\n'
            'use POLICY : WANT_HOLD_IF( DISK_EXCEEDED, $(HOLD_SUBCODE_DISK_EXCEEDED:104), $(HOLD_REASON_DISK_EXCEEDED) )\n'
        ),
        'PREEMPT_IF_MEMORY_EXCEEDED': (
            '#\n'
            '# If the startd sees the memory usage of the job exceed the\n'
            '# memory in the slot, preempt the job immediately ignoring\n'
            "# any retirement time.  VM universe jobs can't go over their\n"
            '# memory allocations, so we ignore them.\n'
            '#\n'
            'MEMORY_EXCEEDED = (JobUniverse != 13 && MemoryUsage =!= UNDEFINED && MemoryUsage > Memory)\n'
            'use POLICY : PREEMPT_IF(MEMORY_EXCEEDED)\n'
        ),
        'HOLD_IF_MEMORY_EXCEEDED': (
            '#\n'
            '# If the startd preempted a job because memory usage exceeded\n'
            '# the amount of memory in the slot, put the job on hold.  VM\n'
            "# universe jobs can't go over their memory allocations, so\n"
            '# we ignore them.\n'
            '#\n'
            'MEMORY_EXCEEDED = (JobUniverse != 13 && MemoryUsage =!= UNDEFINED && MemoryUsage > Memory)\n'
            'HOLD_REASON_MEMORY_EXCEEDED = memory usage exceeded request_memory\n'
            'use POLICY : WANT_HOLD_IF( MEMORY_EXCEEDED, $(HOLD_SUBCODE_MEMORY_EXCEEDED:102), $(HOLD_REASON_MEMORY_EXCEEDED) )\n'
        ),
        'PREEMPT_IF': (
            'if !$(1?)\n'
            'error : use POLICY : PREEMPT_IF requires an argument. It should be the name of a config variable that has the trigger expression.\n'
            'endif\n'
            'if defined PREEMPT\n'
            'PREEMPT = $($(1)) || $(PREEMPT)\n'
            'else\n'
            'PREEMPT = $($(1))\n'
            'endif\n'
            'MAXJOBRETIREMENTTIME = ifthenelse($($(1)),-1,$(MAXJOBRETIREMENTTIME:0))\n'
            'if defined WANT_SUSPEND\n'
            'WANT_SUSPEND = $($(1)) =!= true && $(WANT_SUSPEND)\n'
            'else\n'
            'WANT_SUSPEND = $($(1)) =!= true\n'
            'endif\n'
        ),
        'WANT_HOLD_IF': (
            'use POLICY : PREEMPT_IF($(1))\n'
            'if ! $(3?)\n'
            'error : use POLICY : WANT_HOLD_IF requires 3 arguments: policy_variable, subcode, reason_text\n'
            'endif\n'
            'if defined WANT_HOLD\n'
            'WANT_HOLD = (JobUniverse != 1 && $($(1))) || $(WANT_HOLD)\n'
            'else\n'
            'WANT_HOLD = (JobUniverse != 1 && $($(1)))\n'
            'endif\n'
            'WANT_HOLD_SUBCODE = ifThenElse($($(1)), $(2) , $(WANT_HOLD_SUBCODE:UNDEFINED))\n'
            'WANT_HOLD_REASON = ifThenElse($($(1)), "$(3+)", $(WANT_HOLD_REASON:UNDEFINED))\n'
        ),
        'OnlyRegisteredCheckpointDestinations': (
            'TOOL_CLASSAD_USER_MAP_NAMES = $(TOOL_CLASSAD_USER_MAP_NAMES) checkpoint_destination_map\n'
            'SCHEDD_CLASSAD_USER_MAP_NAMES = $(SCHEDD_CLASSAD_USER_MAP_NAMES) checkpoint_destination_map\n'
            'CLASSAD_USER_MAPFILE_checkpoint_destination_map = $(CHECKPOINT_DESTINATION_MAPFILE)\n'
            'CLASSAD_USER_MAP_PREFIX_checkpoint_destination_map = TRUE\n'
            'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) ValidateCheckpointDestination\n'
            'JOB_TRANSFORM_ValidateCheckpointDestination @=end\n'
            'EVALSET CheckpointDestinationValid = ifthenelse(undefined =?= userMap("checkpoint_destination_map", CheckpointDestination), undefined, True)\n'
            '@end\n'
            'IMMUTABLE_JOB_ATTRS = $(IMMUTABLE_JOB_ATTRS) CheckpointDestinationValid\n'
            'SUBMIT_REQUIREMENT_NAMES = $(SUBMIT_REQUIREMENT_NAMES) RejectInvalidCheckpointDestination\n'
            'SUBMIT_REQUIREMENT_RejectInvalidCheckpointDestination = CheckpointDestination =?= undefined || CheckpointDestinationValid =?= True\n'
            'SUBMIT_REQUIREMENT_RejectInvalidCheckpointDestination_REASON = "You specified a checkpoint_destination this AP does not know how to clean up.  You may need to add a trailing / to the URL."\n'
        ),
    },
    'ROLE': {
        'Personal': (
            'CONDOR_HOST=127.0.0.1\n'
            'COLLECTOR_HOST=$(CONDOR_HOST):0\n'
            'DAEMON_LIST=MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD\n'
            'RunBenchmarks=0\n'
        ),
        'Execute': (
            'DAEMON_LIST=$(DAEMON_LIST) STARTD\n'
        ),
        'Submit': (
            'DAEMON_LIST=$(DAEMON_LIST) SCHEDD\n'
        ),
        'CentralManager': (
            'DAEMON_LIST=$(DAEMON_LIST) COLLECTOR NEGOTIATOR\n'
        ),
        'get_htcondor_central_manager': (
            'use security:get_htcondor_idtokens\n'
            'use role:CentralManager\n'
        ),
        'get_htcondor_submit': (
            'use security:get_htcondor_idtokens\n'
            'use role:submit\n'
        ),
        'get_htcondor_execute': (
            'use security:get_htcondor_idtokens\n'
            'use role:execute\n'
        ),
    },
    'SECURITY': {
        'HOST_BASED': (
            'ALLOW_ADMINISTRATOR=$(CONDOR_HOST)\n'
            'ALLOW_READ=*\n'
            'ALLOW_WRITE=$(FULL_HOSTNAME) $(IPV4_ADDRESS) $(IPV6_ADDRESS)\n'
            'ALLOW_DAEMON=$(FULL_HOSTNAME) $(IPV4_ADDRESS) $(IPV6_ADDRESS)\n'
            'ALLOW_NEGOTIATOR=$(CONDOR_HOST)\n'
            'ALLOW_NEGOTIATOR_SCHEDD=$(ALLOW_NEGOTIATOR) $(FLOCK_NEGOTIATOR_HOSTS)\n'
            'ALLOW_WRITE_COLLECTOR=$(ALLOW_WRITE) $(FLOCK_FROM)\n'
            'ALLOW_WRITE_STARTD=$(ALLOW_WRITE) $(FLOCK_FROM)\n'
            'ALLOW_READ_COLLECTOR=$(ALLOW_READ) $(FLOCK_FROM)\n'
            'ALLOW_READ_STARTD=$(ALLOW_READ) $(FLOCK_FROM)\n'
            '# To smooth upgrades from 8.8.\n'
            'LEGACY_ALLOW_SEMANTICS = TRUE\n'
        ),
        'WITH_AUTHENTICATION': (
            'SEC_DEFAULT_AUTHENTICATION=required\n'
            'SEC_DEFAULT_INTEGRITY=required\n'
        ),
        'STRONG': (
            'SEC_DEFAULT_ENCRYPTION=required\n'
            'SEC_DEFAULT_INTEGRITY=required\n'
            'SEC_DEFAULT_AUTHENTICATION=required\n'
        ),
        'USER_BASED': (
            'if $(CondorIsAdmin)\n'
            'authuser=condor\n'
            'else\n'
            'authuser=$(USERNAME)\n'
            'endif\n'
            'use security:recommended($(authuser))\n'
            "# If we're running under a regular account, limit job submission\n"
            '# to this account.\n'
            'if ! $(CondorIsAdmin)\n'
            'ALLOW_WRITE = $(authuser)@$(UID_DOMAIN)\n'
            'endif\n'
        ),
        'get_htcondor_idtokens': (
            '# Standard security configuration: Authenticate all non-READ connections\n'
            '# and do encryption and integrity checks for all connections.\n'
            'use security:recommended\n'
            '# In older versions (23.X and prior), enabling integrity/encryption\n'
            '# required authentication. To allow unauthenticated READ commands with\n'
            "# encryption, we added ANONYMOUS, an authentication method that doesn't\n"
            '# actually authenticate.\n'
            '# To work with older peers, we include that setting here.\n'
            'SEC_READ_AUTHENTICATION_METHODS = $(SEC_DEFAULT_AUTHENTICATION_METHODS),ANONYMOUS\n'
            'SEC_CLIENT_AUTHENTICATION_METHODS = $(SEC_DEFAULT_AUTHENTICATION_METHODS),ANONYMOUS\n'
            '# IDTOKENs issued by HTCondor include the identity of the issuer.  This\n'
            '# identity is used to determine which IDTOKEN(s) to present to which\n'
            '# daemon(s).  The TRUST_DOMAIN variable sets that identity.  Setting it\n'
            '# to the same thing on each machine in your pool ensures that a token\n'
            '# issued by one machine is presented to every other machine in your pool.\n'
            '#\n'
            '# When get_htcondor creates an IDTOKEN for a machine, it uses this variable\n'
            '# to create the identity for that IDTOKEN.  This makes it easy to look at\n'
            '# the authorization lists (see below) and distinguish between IDTOKENS in\n'
            '# your pool and (if you allow them) IDTOKENS from other pools.\n'
            'TRUST_DOMAIN = $(CONDOR_HOST)\n'
        ),
        'recommended_v9_0': (
            '# Make it easy to detect if this metaknob was set.\n'
            'SECURITY_MODEL = 9.0\n'
            '# Assume that FS and IDTOKENS are in SEC_DEFAULT_AUTHENTICATION_METHODS,\n'
            '# which they are by default.\n'
            'use security:strong\n'
            '# This allows anyone who can access port 9618 to READ, which lets\n'
            '# condor_status and condor_q work over the network out of the box.\n'
            'SEC_READ_AUTHENTICATION = OPTIONAL\n'
            'SEC_READ_ENCRYPTION = OPTIONAL\n'
            'SEC_READ_INTEGRITY = OPTIONAL\n'
            'ALLOW_ADMINISTRATOR = $(1:condor)@* condor_pool@* $(2:root@*) $(3+)\n'
            'ALLOW_DAEMON = $(1:condor)@*  condor_pool@*\n'
            'ALLOW_NEGOTIATOR = $(1:condor)@* condor_pool@*\n'
            'ALLOW_WRITE = *\n'
            'ALLOW_READ = *\n'
        ),
        'recommended_v24_0': (
            '# Make it easy to detect if this metaknob was set.\n'
            'SECURITY_MODEL = 24.0\n'
            '# Assume that FS and IDTOKENS are in SEC_DEFAULT_AUTHENTICATION_METHODS,\n'
            '# which they are by default.\n'
            'use security:strong\n'
            '# This allows anyone who can access port 9618 to READ, which lets\n'
            '# condor_status and condor_q work over the network out of the box.\n'
            'SEC_READ_AUTHENTICATION = OPTIONAL\n'
            'SEC_CLIENT_AUTHENTICATION = OPTIONAL\n'
            'ALLOW_ADMINISTRATOR = $(1:condor)@* condor@password $(2:root@*) $(3+)\n'
            'ALLOW_DAEMON = $(1:condor)@*  condor@password\n'
            'ALLOW_NEGOTIATOR = $(1:condor)@* condor@password\n'
            'ALLOW_WRITE = *\n'
            'ALLOW_READ = *\n'
        ),
        'recommended': (
            '# Latest revision was made for 24.0\n'
            'use security:recommended_v24_0($(1+))\n'
        ),
        'FIPS': (
            'FIPS = True\n'
            'use security:strong\n'
            'SEC_DEFAULT_CRYPTO_METHODS = AES,3DES\n'
        ),
    },
    'EXPERIMENTAL': {
        'CollectorNode': (
            'COLLECTOR$(1)=$(COLLECTOR)\n'
            'if $(2?)\n'
            'COLLECTOR$(1)_ARGS=-f -local-name COLLECTOR$(1) -p $(2)\n'
            'else\n'
            'COLLECTOR$(1)_ARGS=-f -local-name COLLECTOR$(1) -sock collector$(1)\n'
            'endif\n'
            'COLLECTOR$(1).COLLECTOR_LOG=$(LOG)/Collector$(1)Log\n'
            'COLLECTOR$(1).CCB_RECONNECT_FILE=$(SPOOL)/Collector$(1).ccb_reconnect\n'
            'DAEMON_LIST=$(DAEMON_LIST) COLLECTOR$(1)\n'
        ),
        'HAD': (
            'DAEMON_LIST = $(DAEMON_LIST) HAD REPLICATION\n'
            'HAD_USE_REPLICATION = TRUE\n'
            'MASTER_HAD_BACKOFF_CONSTANT = 360\n'
        ),
        'HADSharedPort': (
            'use EXPERIMENTAL : HADReplication( $(1), $(2), $(SHARED_PORT_PORT), $(SHARED_PORT_PORT) )\n'
        ),
        'HADFixedPort': (
            'HAD_ARGS = -p $(3)\n'
            'REPLICATION_ARGS = -p $(4)\n'
            'use EXPERIMENTAL : HADReplication( $(1), $(2), $(3), $(4) )\n'
        ),
        'HADReplication': (
            'HAD_LIST = $(HAD_LIST) $(2):$(3)\n'
            'REPLICATION_LIST = $(REPLICATION_LIST) $(2):$(4)\n'
            'HAD_CONTROLLEE = $(1)\n'
            'MASTER_$(1)_CONTROLLER = HAD\n'
        ),
    },
    'UPGRADE': {
        'DISCARD': (
            'LeaseManager\n'
            'LeaseManger_ADDRESS_FILE\n'
            'LeaseManager_LOG\n'
            'LeaseManager_DEBUG\n'
            'MAX_LeaseManager_LOG\n'
            'LeaseManager.GETADS_INTERVAL\n'
            'LeaseManager.PRUNE_INTERVAL\n'
            'LeaseManager.DEBUG_ADS\n'
            'LeaseManager.CLASSAD_LOG\n'
            'STORK\n'
            'STORK_ADDRESS_FILE\n'
            'STORK_LOG_BASE\n'
            'STORK_LOG\n'
            'STORK_DEBUG\n'
            'MAX_STORK_LOG\n'
            'STORK_PORT\n'
            'STORK_ARGS\n'
            'DEFRAG_STATE_FILE\n'
        ),
        'DISCARDX': (
            '\n'
        ),
        'DISCARDIF': (
            'RESERVED_DISK=5\n'
            'ALL_DEBUG=\n'
            'MAX_COLLECTOR_LOG=1000000\n'
            'MAX_KBDD_LOG=1000000\n'
            'MAX_MASTER_LOG=1000000\n'
            'MAX_NEGOTIATOR_LOG=1000000\n'
            'MAX_NEGOTIATOR_MATCH_LOG=1000000\n'
            'MAX_SCHEDD_LOG=1000000\n'
            'MAX_SHADOW_LOG=1000000\n'
            'MAX_SHARED_PORT_LOG=1000000\n'
            'MAX_STARTD_LOG=1000000\n'
            'MAX_STARTER_LOG=1000000\n'
            'MAX_JOB_ROUTER_LOG=1000000\n'
            'MAX_REPLICATION_LOG=1000000\n'
            'MAX_ROOSTER_LOG=1000000\n'
            'MAX_HAD_LOG=1000000\n'
            'MAX_TRANSFERER_LOG=1000000\n'
            'MAX_GRIDMANAGER_LOG=1000000\n'
            'MAX_C_GAHP_LOG=1000000\n'
            'MAX_VM_GAHP_LOG=1000000\n'
            'MAX_CREDD_LOG=4000000\n'
            'VALID_SPOOL_FILES=job_queue.log, job_queue.log.tmp, history, Accountant.log, Accountantnew.log, local_univ_execute, .pgpass, .schedd_address, .schedd_classad\n'
            'VALID_SPOOL_FILES=job_queue.log, job_queue.log.tmp, history, Accountant.log, Accountantnew.log, local_univ_execute, .pgpass, .schedd_address, .schedd_classad, OfflineLog\n'
        ),
        'DISCARDIFX': (
            'QUEUE_SUPER_USERS=root, condor\n'
        ),
        'DISCARD_VMWARE': (
            '\n'
        ),
    },
}
